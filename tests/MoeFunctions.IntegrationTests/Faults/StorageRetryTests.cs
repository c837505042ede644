using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Azure;
using Azure.Core.Diagnostics;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using MoeFunctions.App;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>
/// Issue 8: transient storage errors are retried with backoff, permanent ones are not. The clients are the app's own
/// (CloudClients.Storage from the MoeStorage setting); every attempt is counted from Azure.Core's event source, which logs
/// one "Request" event per attempt and one "RequestRetrying" event per retry.
/// </summary>
public sealed class StorageRetryTests
{
    private static (Azure.Storage.Blobs.BlobServiceClient Blobs, Azure.Storage.Queues.QueueServiceClient Queues, TableServiceClient Tables) AppClients(string connectionString)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection([new(CloudClients.StorageConnection, connectionString)]).Build();
        return CloudClients.Storage(config, new Azure.Identity.DefaultAzureCredential());
    }

    [Fact]
    public async Task Storage_down_then_up_is_retried_until_the_call_succeeds()
    {
        await using var azurite = new RestartableAzurite();   // not started yet: its ports refuse connections
        var blobs = AppClients(azurite.ConnectionString).Blobs;
        string container = AzuriteName("transient");
        using var attempts = new AttemptCounter(container);

        var create = blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync();
        while (attempts.Retries(container) < 2) await Task.Delay(50);   // two refused attempts, then storage comes back
        await azurite.StartAsync();
        var created = await create;

        Assert.NotNull(created?.Value);   // null would mean it already existed
        Assert.True(attempts.Requests(container) >= 3, $"{attempts.Requests(container)} attempts");
        Assert.True(await blobs.GetBlobContainerClient(container).ExistsAsync());
    }

    [Fact]
    public async Task Storage_that_stays_down_is_tried_six_times_then_the_error_surfaces()
    {
        await using var azurite = new RestartableAzurite();   // never started
        var blobs = AppClients(azurite.ConnectionString).Blobs;
        string container = AzuriteName("down");
        using var attempts = new AttemptCounter(container);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => blobs.GetBlobContainerClient(container).CreateIfNotExistsAsync());

        Assert.True(e is AggregateException or RequestFailedException, e.GetType().Name);
        Assert.Equal(1 + 5, attempts.Requests(container));   // CloudClients: MaxRetries = 5
        Assert.Equal(5, attempts.Retries(container));
    }

    [Fact]
    public async Task Not_found_and_conflict_answers_are_not_retried()
    {
        await using var azurite = new RestartableAzurite();
        await azurite.StartAsync();
        var (blobs, queues, tables) = AppClients(azurite.ConnectionString);
        string name = AzuriteName("permanent");
        using var attempts = new AttemptCounter(name);

        var missingBlob = await Assert.ThrowsAsync<RequestFailedException>(() => blobs.GetBlobContainerClient(name).GetBlobClient("missing.wav").GetPropertiesAsync());
        Assert.Equal(404, missingBlob.Status);
        Assert.Equal(1, attempts.Requests(name));

        await blobs.GetBlobContainerClient(name).CreateAsync();
        var twice = await Assert.ThrowsAsync<RequestFailedException>(() => blobs.GetBlobContainerClient(name).CreateAsync());
        Assert.Equal(409, twice.Status);
        Assert.Equal(3, attempts.Requests(name));   // the 404, the create, the 409: one attempt each

        string table = name.Replace("-", "");
        using var tableAttempts = new AttemptCounter(table);
        var client = tables.GetTableClient(table);
        await client.CreateAsync();
        await client.AddEntityAsync(new TableEntity("scan", "scan"));
        var insertTwice = await Assert.ThrowsAsync<RequestFailedException>(() => client.AddEntityAsync(new TableEntity("scan", "scan")));
        Assert.Equal(409, insertTwice.Status);
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => client.UpdateEntityAsync(new TableEntity("scan", "scan"), new ETag("W/\"datetime'2000-01-01T00%3A00%3A00Z'\"")));
        Assert.Equal(412, stale.Status);
        Assert.Equal(3, tableAttempts.Requests(table));   // two inserts and the update (the create's URI is /Tables, without the name)

        var missingQueue = await Assert.ThrowsAsync<RequestFailedException>(() => queues.GetQueueClient(name).ReceiveMessagesAsync());
        Assert.Equal(404, missingQueue.Status);
        Assert.Equal(0, attempts.Retries(name) + tableAttempts.Retries(table));
    }

    private static string AzuriteName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Counts Azure.Core's per-attempt events for requests whose URI contains a marker unique to one test.</summary>
    private sealed class AttemptCounter : IDisposable
    {
        private readonly AzureEventSourceListener _listener;
        private readonly ConcurrentDictionary<string, string> _uriById = new();
        private readonly ConcurrentQueue<string> _requests = new();
        private readonly ConcurrentQueue<string> _retries = new();

        public AttemptCounter(string _)
        {
            _listener = new AzureEventSourceListener((e, _) =>
            {
                string? Get(string key) => e.PayloadNames?.IndexOf(key) is int i and >= 0 ? e.Payload?[i]?.ToString() : null;
                if (e.EventName == "Request" && Get("requestId") is { } id && Get("uri") is { } uri)
                {
                    _uriById[id] = uri;
                    _requests.Enqueue(uri);
                }
                else if (e.EventName == "RequestRetrying" && Get("requestId") is { } rid)
                    _retries.Enqueue(rid);
            }, EventLevel.Informational);
        }

        public int Requests(string marker) => _requests.Count(u => u.Contains(marker));
        public int Retries(string marker) => _retries.Count(id => _uriById.TryGetValue(id, out var u) && u.Contains(marker));
        public void Dispose() => _listener.Dispose();
    }
}
