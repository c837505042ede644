using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Logging.Abstractions;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Scanning.Tests.Cloud;

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}

/// <summary>Containers, queues and a table with names unique to one test, on the shared Azurite.</summary>
public sealed class CloudTestBed
{
    public CloudTestBed(AzuriteFixture azurite)
    {
        string id = Guid.NewGuid().ToString("N")[..12];
        Options = new MoeCloudOptions
        {
            UploadsContainer = $"up-{id}",
            ClipsContainer = $"clips-{id}",
            ResultsContainer = $"results-{id}",
            ClipsQueue = $"clips-{id}",
            ScansTable = $"scans{id}",
            NotificationQueue = $"notify-{id}",
        };
        var queues = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        Storage = new CloudStorage(new BlobServiceClient(azurite.ConnectionString), queues, new TableServiceClient(azurite.ConnectionString), Options);
        Notifications = queues.GetQueueClient(Options.NotificationQueue);
        Finalize = new FinalizeStage(Storage, new StorageQueueNotificationSink(Notifications), Options, NullLogger<FinalizeStage>.Instance);
    }

    public MoeCloudOptions Options { get; }
    public CloudStorage Storage { get; }
    public QueueClient Notifications { get; }
    public FinalizeStage Finalize { get; }

    public async Task CreateAsync()
    {
        await Storage.EnsureCreatedAsync();
        await Notifications.CreateIfNotExistsAsync();
    }

    public async Task<List<ScanNotification>> DrainNotificationsAsync()
    {
        var list = new List<ScanNotification>();
        while (true)
        {
            var batch = (await Notifications.ReceiveMessagesAsync(32)).Value;
            if (batch.Length == 0) return list;
            foreach (var m in batch)
            {
                list.Add(m.Body.ToObjectFromJson<ScanNotification>(ScanJson.Options)!);
                await Notifications.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }
    }

    public async Task<ScanResult?> ReadResultAsync(string scanId)
    {
        var blob = Storage.Results.GetBlobClient(CloudNames.ResultBlob(scanId));
        if (!await blob.ExistsAsync()) return null;
        return JsonSerializer.Deserialize<ScanResult>((await blob.DownloadContentAsync()).Value.Content.ToStream(), ScanJson.Options);
    }

    public async Task<int> CountBlobsAsync(BlobContainerClient container, string prefix)
    {
        int n = 0;
        await foreach (var _ in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, default)) n++;
        return n;
    }
}
