using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeFunctions.App;
using MoeFunctions.App.Tests.Support;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.TestSupport;

namespace MoeFunctions.IntegrationTests;

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}

/// <summary>
/// The worker host built from the sample settings, pointed at Azurite with resource names unique to one test,
/// and a driver that calls the function classes the way the Functions host does: blob trigger, then the queue
/// trigger for every message (redelivering failures and moving a message to the poison queue after maxDequeueCount).
/// </summary>
public sealed class CloudChain : IAsyncDisposable
{
    public CloudChain(AzuriteFixture azurite, Action<Dictionary<string, string>>? settings = null, Action<IServiceCollection>? services = null)
    {
        string id = Guid.NewGuid().ToString("N")[..10];
        Settings = AppTestHost.SampleSettings();
        Settings["MoeStorage"] = azurite.ConnectionString;
        Settings["Moe__UploadsContainer"] = $"uploads-{id}";
        Settings["Moe__ClipsContainer"] = $"clips-{id}";
        Settings["Moe__ResultsContainer"] = $"results-{id}";
        Settings["Moe__ClipsQueue"] = $"clips-to-score-{id}";
        Settings["Moe__ScansTable"] = $"scans{id}";
        Settings["Moe__NotificationQueue"] = $"scan-results-{id}";
        // Two windows per batch, so a ten-second file makes several batches and exercises the last-batch race.
        Settings["Moe__BatchWindows"] = "2";
        settings?.Invoke(Settings);
        Host = AppTestHost.Build(Settings, services);
        Storage = Host.Services.GetRequiredService<CloudStorage>();
        Options = Host.Services.GetRequiredService<MoeCloudOptions>();
        Notifications = Storage.Queues.GetQueueClient(Options.NotificationQueue);
        Poison = Storage.Queues.GetQueueClient(Options.ClipsQueue + "-poison");
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json")));
        MaxDequeueCount = hostJson.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32();
    }

    public Dictionary<string, string> Settings { get; }
    public IHost Host { get; }
    public CloudStorage Storage { get; }
    public MoeCloudOptions Options { get; }
    public QueueClient Notifications { get; }
    public QueueClient Poison { get; }
    public int MaxDequeueCount { get; }

    /// <summary>What the app does at start on Azurite: its development bootstrap creates containers, queues and the table.</summary>
    public Task CreateAsync() =>
        Host.Services.GetServices<IHostedService>().OfType<DevelopmentStorageBootstrap>().Single().StartAsync(CancellationToken.None);

    private TestFunctionContext Context(string function) => new(Host.Services, function);

    public async Task<BlobClient> UploadAsync(string file, string? name = null)
    {
        var blob = Storage.Uploads.GetBlobClient(name ?? Path.GetFileName(file));
        await blob.UploadAsync(file, overwrite: true);
        return blob;
    }

    /// <summary>One blob trigger invocation, with a fresh function instance as the host creates per invocation.</summary>
    public Task<IngestReport> IngestAsync(BlobClient blob) =>
        ActivatorUtilities.CreateInstance<IngestMedia>(Host.Services).Run(Storage.Uploads.GetBlobClient(blob.Name), Context(nameof(IngestMedia)));

    /// <summary>Runs ScoreClips for every queued message (a received batch concurrently), then ScoreClipsPoison for every poison message.</summary>
    public async Task<List<ScoreOutcome>> DrainAsync()
    {
        var outcomes = new List<ScoreOutcome>();
        for (int round = 0; round < 100; round++)
        {
            var messages = (await Storage.ClipsQueue.ReceiveMessagesAsync(16, TimeSpan.FromMinutes(2))).Value;
            if (messages.Length == 0) break;
            await Task.WhenAll(messages.Select(async m =>
            {
                try
                {
                    var outcome = await ActivatorUtilities.CreateInstance<ScoreClips>(Host.Services).Run(m, Context(nameof(ScoreClips)));
                    lock (outcomes) outcomes.Add(outcome);
                    await Storage.ClipsQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                }
                catch (Exception) when (m.DequeueCount >= MaxDequeueCount)
                {
                    await Poison.SendMessageAsync(m.Body);
                    await Storage.ClipsQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                }
                catch (Exception)
                {
                    await Storage.ClipsQueue.UpdateMessageAsync(m.MessageId, m.PopReceipt, visibilityTimeout: TimeSpan.Zero);
                }
            }));
        }
        while ((await Poison.ReceiveMessagesAsync(16)).Value is { Length: > 0 } poisoned)
            foreach (var m in poisoned)
            {
                await ActivatorUtilities.CreateInstance<ScoreClipsPoison>(Host.Services).Run(m, Context(nameof(ScoreClipsPoison)));
                await Poison.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        return outcomes;
    }

    public async Task<List<ScanNotification>> NotificationsAsync()
    {
        var list = new List<ScanNotification>();
        foreach (var m in (await Notifications.PeekMessagesAsync(32)).Value)
            list.Add(m.Body.ToObjectFromJson<ScanNotification>(ScanJson.Options)!);
        return list;
    }

    public async Task<ScanResult?> ResultAsync(string scanId)
    {
        var blob = Storage.Results.GetBlobClient(CloudNames.ResultBlob(scanId));
        if (!await blob.ExistsAsync()) return null;
        return JsonSerializer.Deserialize<ScanResult>((await blob.DownloadContentAsync()).Value.Content.ToStream(), ScanJson.Options);
    }

    public async Task<List<string>> BlobNamesAsync(BlobContainerClient container, string prefix = "")
    {
        var names = new List<string>();
        await foreach (var b in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, default)) names.Add(b.Name);
        return names;
    }

    public async Task<int> QueueLengthAsync(QueueClient queue) => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

    public ValueTask DisposeAsync()
    {
        Host.Dispose();
        return ValueTask.CompletedTask;
    }
}
