// MoeFunctions in one deployment: storage, Service Bus, monitoring, one managed identity with least-privilege
// roles, the ingest Function App (Flex Consumption, or a CPU container with ffmpeg) and the GPU scoring
// Function App on Azure Container Apps. `azd up` runs it; docs/deploy.md gives the `az deployment sub create` form.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Environment name (azd: AZURE_ENV_NAME); part of every resource name.')
param environmentName string

@minLength(1)
@description('Region for every resource. Pick one with serverless GPUs and Flex Consumption (see docs/deploy.md).')
param location string

@description('Object id of the deploying user (azd: AZURE_PRINCIPAL_ID); gets blob data rights for uploads and Flex packages. Empty: none.')
param principalId string = ''

@allowed([ 'flex', 'containerapp' ])
@description('flex: ingest on Flex Consumption, no ffmpeg (video containers end as Failed). containerapp: ingest image with ffmpeg on the Consumption profile.')
param ingestHosting string = 'flex'

@description('Second phase of a Flex deployment: subscribe the ingest app to BlobCreated events (needs its code deployed first).')
param deployEventSubscription bool = false

@allowed([ 'Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100' ])
param gpuWorkloadProfileType string = 'Consumption-GPU-NC8as-T4'

@description('vCPU of one scoring replica (string: "8").')
param scoreCpu string = '8'
param scoreMemory string = '56Gi'
@minValue(0)
param scoreMinReplicas int = 0
@minValue(1)
param scoreMaxReplicas int = 4
@minValue(1)
@description('Queued clip batches per scoring replica before Container Apps adds one.')
param scoreQueueLength int = 16
@allowed([ 'cuda', 'cpu' ])
param scoreDevice string = 'cuda'
@allowed([ 'Auto', 'Fp32', 'Int8' ])
@description('Auto: Int8 when scoreDevice is cpu and the bundle is calibrated (moe quantize), else Fp32. Int8 is CPU only, so it needs scoreDevice cpu.')
param scorePrecision string = 'Auto'
@description('Scoring image (azd sets it on deploy); empty: the Functions base image as a placeholder.')
param scoreImage string = ''

@description('Ingest image for ingestHosting=containerapp (azd sets it); empty: placeholder.')
param ingestImage string = ''
@allowed([ 512, 2048, 4096 ])
param ingestInstanceMemoryMB int = 2048
@minValue(1)
param ingestMaximumInstances int = 40

@description('Routing override (empty: the bundle default).')
param moeMode string = ''
@description('Top-k override (empty: the bundle default).')
param moeTopK string = ''

var names = loadJsonContent('names.json')
var moe = names.settings
var fn = names.functions
var tags = { 'azd-env-name': environmentName }
var token = toLower(uniqueString(subscription().id, environmentName, location))
var ingestOnFlex = ingestHosting == 'flex'
var gpuProfileName = 'gpu'

var resourceNames = {
  group: 'rg-${environmentName}'
  storage: take('st${token}', 24)
  serviceBus: 'sb-${token}'
  registry: 'cr${token}'
  identity: 'id-${token}'
  workspace: 'log-${token}'
  appInsights: 'appi-${token}'
  environment: 'cae-${token}'
  ingestPlan: 'plan-ingest-${token}'
  ingestApp: 'func-ingest-${token}'
  scoreApp: take('ca-score-${token}', 32)
  eventTopic: 'evgt-${token}'
}

// Storage endpoints follow from the account name and the cloud's suffix; no runtime lookup needed.
var storageSuffix = environment().suffixes.storage
var blobEndpoint = 'https://${resourceNames.storage}.blob.${storageSuffix}'
var queueEndpoint = 'https://${resourceNames.storage}.queue.${storageSuffix}'
var tableEndpoint = 'https://${resourceNames.storage}.table.${storageSuffix}'

@description('Identity-based connection settings in the Functions convention: <prefix>__blobServiceUri, ...')
func identityConnection(prefix string, blob string, queue string, table string, clientId string) object => {
  '${prefix}__blobServiceUri': blob
  '${prefix}__queueServiceUri': queue
  '${prefix}__tableServiceUri': table
  '${prefix}__credential': 'managedidentity'
  '${prefix}__clientId': clientId
}

func disabled(functionName string) string => 'AzureWebJobs.${functionName}.Disabled'

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceNames.group
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    workspaceName: resourceNames.workspace
    appInsightsName: resourceNames.appInsights
  }
}

module identity 'modules/identity.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    name: resourceNames.identity
  }
}

module storage 'modules/storage.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    name: resourceNames.storage
    names: names
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    name: resourceNames.serviceBus
    queueName: moe.Moe__ServiceBus__QueueName
  }
}

module registry 'modules/registry.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    name: resourceNames.registry
  }
}

module roles 'modules/roles.bicep' = {
  scope: group
  dependsOn: [ identity, storage, serviceBus, registry ]
  params: {
    identityName: resourceNames.identity
    deployerPrincipalId: principalId
    storageAccountName: resourceNames.storage
    serviceBusNamespaceName: resourceNames.serviceBus
    serviceBusQueueName: moe.Moe__ServiceBus__QueueName
    registryName: resourceNames.registry
  }
}

module containerEnvironment 'modules/containerEnvironment.bicep' = {
  scope: group
  params: {
    location: location
    tags: tags
    name: resourceNames.environment
    workspaceId: monitoring.outputs.workspaceId
    gpuWorkloadProfileType: gpuWorkloadProfileType
    gpuWorkloadProfileName: gpuProfileName
  }
}

// Settings both apps share: every key of local.settings.sample.json, with Azure values.
var sharedSettings = {
  FUNCTIONS_WORKER_RUNTIME: 'dotnet-isolated'
  ...identityConnection('AzureWebJobsStorage', blobEndpoint, queueEndpoint, tableEndpoint, identity.outputs.clientId)
  ...identityConnection('MoeStorage', blobEndpoint, queueEndpoint, tableEndpoint, identity.outputs.clientId)
  ...moe
  Moe__Notifier: 'ServiceBus'
  Moe__ServiceBus__FullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
  Moe__Mode: moeMode
  Moe__TopK: moeTopK
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.appInsightsConnectionString
  // DefaultAzureCredential picks the user-assigned identity from this (the apps have no system identity).
  AZURE_CLIENT_ID: identity.outputs.clientId
}

// Ingest: Event Grid blob trigger on Flex (which has no polling blob trigger), polling in a container.
var ingestSettings = union(sharedSettings, {
  Moe__Role: 'Ingest'
  Moe__Device: 'cpu'
  Moe__Precision: 'Fp32'
  '${disabled(fn.ingestPolling)}': ingestOnFlex ? 'true' : 'false'
  '${disabled(fn.ingestEventGrid)}': ingestOnFlex ? 'false' : 'true'
  '${disabled(fn.score)}': 'true'
  '${disabled(fn.scorePoison)}': 'true'
})

var scoreSettings = union(sharedSettings, {
  Moe__Role: 'Score'
  Moe__Device: scoreDevice
  Moe__Precision: scorePrecision
  '${disabled(fn.ingestPolling)}': 'true'
  '${disabled(fn.ingestEventGrid)}': 'true'
  '${disabled(fn.score)}': 'false'
  '${disabled(fn.scorePoison)}': 'false'
})

module ingestFlex 'modules/ingestFlex.bicep' = if (ingestOnFlex) {
  scope: group
  dependsOn: [ roles ]
  params: {
    location: location
    tags: tags
    planName: resourceNames.ingestPlan
    appName: resourceNames.ingestApp
    identityId: identity.outputs.id
    deploymentContainerUrl: '${blobEndpoint}/${names.deploymentContainer}'
    settings: ingestSettings
    instanceMemoryMB: ingestInstanceMemoryMB
    maximumInstanceCount: ingestMaximumInstances
  }
}

// The polling blob trigger needs a running host, so the container variant keeps one replica.
module ingestContainer 'modules/functionContainerApp.bicep' = if (!ingestOnFlex) {
  scope: group
  dependsOn: [ roles ]
  params: {
    location: location
    tags: tags
    name: resourceNames.ingestApp
    azdServiceName: 'ingest'
    environmentId: containerEnvironment.outputs.id
    workloadProfileName: 'Consumption'
    image: ingestImage
    registryServer: registry.outputs.loginServer
    identityId: identity.outputs.id
    cpu: '2'
    memory: '4Gi'
    minReplicas: 1
    maxReplicas: 10
    settings: ingestSettings
  }
}

module score 'modules/functionContainerApp.bicep' = {
  scope: group
  dependsOn: [ roles ]
  params: {
    location: location
    tags: tags
    name: resourceNames.scoreApp
    azdServiceName: 'score'
    environmentId: containerEnvironment.outputs.id
    workloadProfileName: gpuProfileName
    image: scoreImage
    registryServer: registry.outputs.loginServer
    identityId: identity.outputs.id
    cpu: scoreCpu
    memory: scoreMemory
    minReplicas: scoreMinReplicas
    maxReplicas: scoreMaxReplicas
    settings: scoreSettings
    scaleQueue: {
      accountName: resourceNames.storage
      queueName: moe.Moe__ClipsQueue
      queueLength: scoreQueueLength
    }
  }
}

module uploadsEvents 'modules/uploadsEvents.bicep' = {
  scope: group
  dependsOn: [ storage ]
  params: {
    location: location
    tags: tags
    topicName: resourceNames.eventTopic
    storageAccountName: resourceNames.storage
  }
}

module uploadsSubscription 'modules/uploadsSubscription.bicep' = if (ingestOnFlex && deployEventSubscription) {
  scope: group
  dependsOn: [ uploadsEvents, ingestFlex ]
  params: {
    topicName: resourceNames.eventTopic
    uploadsContainer: moe.Moe__UploadsContainer
    ingestAppName: resourceNames.ingestApp
    ingestFunctionName: fn.ingestEventGrid
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = group.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_STORAGE_ACCOUNT string = storage.outputs.name
output INGEST_APP_NAME string = resourceNames.ingestApp
output SCORE_APP_NAME string = score.outputs.name
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SERVICE_BUS_QUEUE string = serviceBus.outputs.queueName
output EVENT_GRID_TOPIC string = uploadsEvents.outputs.name
output UPLOADS_CONTAINER string = moe.Moe__UploadsContainer
output INGEST_EVENTGRID_FUNCTION string = fn.ingestEventGrid
output EVENT_SUBSCRIPTION_DEPLOYED bool = ingestOnFlex && deployEventSubscription
