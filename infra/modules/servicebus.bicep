// Service Bus namespace (Entra ID only) with the scan-results queue a moderation pipeline consumes.
// Standard tier: duplicate detection needs it. MessageId = scan id, so a repeated notification is dropped.
param location string
param tags object
param name string
param queueName string

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
  }
}

output namespaceName string = namespace.name
output queueName string = queue.name
// The endpoint reads https://<name>.servicebus.<cloud suffix>:443/; the SDK wants the bare host name.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]
