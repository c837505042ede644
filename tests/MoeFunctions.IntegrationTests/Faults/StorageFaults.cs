using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using MoeFunctions.Scanning.Cloud;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>
/// Injects transport faults into the Azure SDK pipeline of real clients talking to Azurite, one attempt at a time (a
/// per-retry policy), so the SDK's own retry policy sees them as it would see a dropped connection. Deterministic where
/// stopping Azurite is not: a test says which requests fail, and when.
/// </summary>
public sealed class StorageFaults : HttpPipelinePolicy
{
    private int _injected;
    private int _lostAnswers;

    /// <summary>Requests for which this returns true fail before they reach storage (connection refused).</summary>
    public Func<HttpMessage, bool>? FailBefore { get; set; }

    /// <summary>The first request for which this returns true reaches storage and commits, then its answer is lost.</summary>
    public Func<HttpMessage, bool>? LoseAnswerOnce { get; set; }

    public int Injected => Volatile.Read(ref _injected);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Before(message);
        ProcessNext(message, pipeline);
        After(message);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        Before(message);
        await ProcessNextAsync(message, pipeline);
        After(message);
    }

    private void Before(HttpMessage message)
    {
        if (FailBefore?.Invoke(message) != true) return;
        Interlocked.Increment(ref _injected);
        throw new IOException($"injected fault: connection refused ({message.Request.Method})");
    }

    private void After(HttpMessage message)
    {
        if (LoseAnswerOnce?.Invoke(message) != true || Interlocked.CompareExchange(ref _lostAnswers, 1, 0) != 0) return;
        Interlocked.Increment(ref _injected);
        throw new IOException($"injected fault: connection reset after the request was sent ({message.Request.Method})");
    }

    /// <summary>The workflow's storage on <paramref name="connectionString"/> through this policy, with short SDK retries (3 attempts, 50 ms apart) to keep tests quick.</summary>
    public CloudStorage Storage(string connectionString, MoeCloudOptions options)
    {
        var blob = Configure(new BlobClientOptions());
        var queue = Configure(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var table = Configure(new TableClientOptions());
        return new CloudStorage(new BlobServiceClient(connectionString, blob), new QueueServiceClient(connectionString, queue),
            new TableServiceClient(connectionString, table), options);
    }

    private T Configure<T>(T options) where T : ClientOptions
    {
        options.Retry.Mode = RetryMode.Fixed;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(50);
        options.AddPolicy(this, HttpPipelinePosition.PerRetry);
        return options;
    }

    public static bool IsTable(HttpMessage m, string table) => m.Request.Uri.Path.Contains("/" + table, StringComparison.Ordinal);
    public static bool IsTableInsert(HttpMessage m, string table) => m.Request.Method == RequestMethod.Post && m.Request.Uri.Path.EndsWith("/" + table, StringComparison.Ordinal);
    public static bool IsQueue(HttpMessage m, string queue) => m.Request.Uri.Path.Contains("/" + queue + "/", StringComparison.Ordinal);
    public static bool IsBlobRead(HttpMessage m, string container) =>
        m.Request.Method == RequestMethod.Get && m.Request.Uri.Path.Contains("/" + container + "/", StringComparison.Ordinal);
}
