// Sends BlobCreated events of the uploads container to the ingest app's blob extension webhook.
// The webhook needs the host's blobs_extension system key, which the Functions host creates when it first
// starts with an Event Grid blob trigger, i.e. after the code is deployed: so this is phase two
// (deployEventSubscription=true). ARM reads the key itself; it is never a parameter or an output.
param topicName string
param uploadsContainer string
param ingestAppName string
param ingestFunctionName string

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: topicName
}

resource ingestApp 'Microsoft.Web/sites@2024-11-01' existing = {
  name: ingestAppName
}

var blobsExtensionKey = listKeys('${ingestApp.id}/host/default', '2024-11-01').systemKeys.blobs_extension

resource uploadsToIngest 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'uploads-to-ingest'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${ingestApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${ingestFunctionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [ 'Microsoft.Storage.BlobCreated' ]
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainer}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}
