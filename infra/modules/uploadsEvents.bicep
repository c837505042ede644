// Event Grid system topic on the storage account. The subscription that feeds the ingest app is a separate
// module (uploadsSubscription.bicep) deployed in the second phase, once the app's code is running.
param location string
param tags object
param topicName string
param storageAccountName string

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: topicName
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = topic.name
