// A Function App container on Azure Container Apps (kind functionapp: the Functions host runs the image,
// Container Apps scales it). Used for the GPU scoring app and, when chosen, the CPU ingest app with ffmpeg.
param location string
param tags object
param name string
@description('azd service this app is deployed by (azure.yaml).')
param azdServiceName string
param environmentId string
param workloadProfileName string
@description('Full image reference; empty deploys the public Functions base image until azd deploys the real one.')
param image string
param registryServer string
param identityId string
@description('vCPU for the container, as a string ("0.5", "8").')
param cpu string
param memory string
@minValue(0)
param minReplicas int
@minValue(1)
param maxReplicas int
@description('App settings (name -> value), passed as environment variables.')
param settings object
@description('Storage queue that drives scaling: { accountName, queueName, queueLength }; empty for none.')
param scaleQueue object = {}

var placeholderImage = 'mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0'

resource app 'Microsoft.App/containerApps@2025-07-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      registries: [ { server: registryServer, identity: identityId } ]
      // Internal only: nothing outside the environment calls these apps; queues and blobs trigger them.
      ingress: { external: false, targetPort: 8080 }
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: empty(image) ? placeholderImage : image
          resources: { cpu: json(cpu), memory: memory }
          env: map(items(settings), s => { name: s.key, value: s.value })
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: empty(scaleQueue)
          ? []
          : [
              {
                name: 'queue-backlog'
                azureQueue: {
                  accountName: scaleQueue.accountName
                  queueName: scaleQueue.queueName
                  queueLength: scaleQueue.queueLength
                  identity: identityId
                }
              }
            ]
      }
    }
  }
}

output name string = app.name
