using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>The containers, queue and table of the workflow, resolved from the options.</summary>
public sealed class CloudStorage
{
    public CloudStorage(BlobServiceClient blobs, QueueServiceClient queues, TableServiceClient tables, MoeCloudOptions options)
    {
        Blobs = blobs;
        Queues = queues;
        Uploads = blobs.GetBlobContainerClient(options.UploadsContainer);
        Clips = blobs.GetBlobContainerClient(options.ClipsContainer);
        Results = blobs.GetBlobContainerClient(options.ResultsContainer);
        ClipsQueue = queues.GetQueueClient(options.ClipsQueue);
        Scans = new ScanStore(tables.GetTableClient(options.ScansTable));
    }

    public BlobServiceClient Blobs { get; }
    /// <summary>Built with base64 message encoding (see ClipsQueue).</summary>
    public QueueServiceClient Queues { get; }
    public BlobContainerClient Uploads { get; }
    public BlobContainerClient Clips { get; }
    public BlobContainerClient Results { get; }
    /// <summary>Must be created with base64 message encoding: the Functions queue trigger decodes base64.</summary>
    public QueueClient ClipsQueue { get; }
    public ScanStore Scans { get; }

    /// <summary>Creates what is missing (idempotent); in Azure the infra creates them and the identity may lack the right, so callers may skip it.</summary>
    public async Task EnsureCreatedAsync(CancellationToken ct = default)
    {
        await Uploads.CreateIfNotExistsAsync(cancellationToken: ct);
        await Clips.CreateIfNotExistsAsync(cancellationToken: ct);
        await Results.CreateIfNotExistsAsync(cancellationToken: ct);
        await ClipsQueue.CreateIfNotExistsAsync(cancellationToken: ct);
        await Scans.Table.CreateIfNotExistsAsync(ct);
    }
}
