// Container Apps environment with the serverless GPU profile the scoring app runs on.
// Logs go to Azure Monitor and from there to the workspace: no workspace shared key is handed out.
param location string
param tags object
param name string
param workspaceId string
@allowed([ 'Consumption-GPU-NC8as-T4', 'Consumption-GPU-NC24-A100' ])
param gpuWorkloadProfileType string
param gpuWorkloadProfileName string

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: { destination: 'azure-monitor' }
    workloadProfiles: [
      { name: 'Consumption', workloadProfileType: 'Consumption' }
      { name: gpuWorkloadProfileName, workloadProfileType: gpuWorkloadProfileType }
    ]
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: workspaceId
    logs: [ { categoryGroup: 'allLogs', enabled: true } ]
  }
}

output id string = environment.id
