using Azure.Storage.Blobs;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using MoeFunctions.Scanning.Cloud;

namespace MoeFunctions.App;

// Thin trigger classes: binding in, stage call out. All logic lives in MoeFunctions.Scanning.Cloud.
// Names are the contract with the AzureWebJobs.<name>.Disabled settings and with infra.

/// <summary>Uploads container, polling trigger (Azurite, local runs). Disabled in Azure by AzureWebJobs.IngestMedia.Disabled.</summary>
public sealed class IngestMedia(IngestStage stage)
{
    [Function(nameof(IngestMedia))]
    public Task<IngestReport> Run(
        [BlobTrigger("%Moe:UploadsContainer%/{name}", Connection = "MoeStorage")] BlobClient blob,
        FunctionContext context) =>
        stage.RunAsync(blob, context.InvocationId, context.CancellationToken);
}

/// <summary>Uploads container through an Event Grid subscription (Azure; required on Flex Consumption).</summary>
public sealed class IngestMediaEventGrid(IngestStage stage)
{
    [Function(nameof(IngestMediaEventGrid))]
    public Task<IngestReport> Run(
        [BlobTrigger("%Moe:UploadsContainer%/{name}", Source = BlobTriggerSource.EventGrid, Connection = "MoeStorage")] BlobClient blob,
        FunctionContext context) =>
        stage.RunAsync(blob, context.InvocationId, context.CancellationToken);
}

/// <summary>One clip batch per message; the function the GPU container app runs.</summary>
public sealed class ScoreClips(ScoreStage stage)
{
    [Function(nameof(ScoreClips))]
    public Task<ScoreOutcome> Run(
        [QueueTrigger("%Moe:ClipsQueue%", Connection = "MoeStorage")] QueueMessage message,
        FunctionContext context) =>
        stage.RunAsync(ScoreStage.Parse(message.Body), message.InsertedOn, context.CancellationToken);
}

/// <summary>Batches that failed maxDequeueCount times land here; their scan ends as Failed with a notification.</summary>
public sealed class ScoreClipsPoison(PoisonStage stage)
{
    [Function(nameof(ScoreClipsPoison))]
    public Task<bool> Run(
        [QueueTrigger("%Moe:ClipsQueue%-poison", Connection = "MoeStorage")] QueueMessage message,
        FunctionContext context) =>
        stage.RunAsync(message.Body, context.CancellationToken);
}
