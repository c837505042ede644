// The ingest Function App on the Flex Consumption plan (code deployment, Linux, .NET 10 isolated).
// Flex runs no custom container: ffmpeg is absent, so video containers end as Failed results with that reason.
param location string
param tags object
param planName string
param appName string
param identityId string
@description('Blob container URL Flex deploys the code package to.')
param deploymentContainerUrl string
@description('App settings (name -> value). The runtime comes from functionAppConfig, not from settings.')
param settings object
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'ingest' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: map(
        filter(items(settings), s => s.key != 'FUNCTIONS_WORKER_RUNTIME'),
        s => { name: s.key, value: s.value }
      )
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: { name: settings.FUNCTIONS_WORKER_RUNTIME, version: '10.0' }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
  }
}

// Publishing credentials stay off: deployment uses Entra ID.
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
