using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeFunctions.App;
using MoeFunctions.App.Tests.Support;
using MoeFunctions.Scanning.Cloud;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>
/// Stands in for the Functions host's delivery: the blob trigger retried up to host.json's poisonBlobThreshold, the
/// queue trigger receiving with a visibility timeout, deleting a message only after the function returned, letting a
/// failed message reappear after the timeout and moving it to the poison queue once its dequeue count reached
/// maxDequeueCount. It never hides a fault: every failed invocation is counted.
/// </summary>
public sealed class AtLeastOnceHost(IServiceProvider services, CloudStorage storage, TimeSpan visibilityTimeout)
{
    private static readonly JsonElement Host = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "host.json"))).RootElement;
    public static int MaxDequeueCount => Host.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32();
    public static int QueueBatchSize => Host.GetProperty("extensions").GetProperty("queues").GetProperty("batchSize").GetInt32();
    public static int PoisonBlobThreshold => Host.GetProperty("extensions").GetProperty("blobs").GetProperty("poisonBlobThreshold").GetInt32();

    private int _failedIngests, _failedScores, _blobPoison, _poisoned, _lostDeletes;
    public ConcurrentBag<IngestReport> IngestReports { get; } = [];
    public ConcurrentBag<ScoreOutcome> ScoreOutcomes { get; } = [];
    public int FailedIngests => _failedIngests;
    public int FailedScores => _failedScores;
    public int BlobPoison => _blobPoison;
    public int Poisoned => _poisoned;
    /// <summary>Deletes that failed after the function succeeded: the message is delivered again, as on the real host.</summary>
    public int LostDeletes => _lostDeletes;
    /// <summary>Completed ScoreClips invocations, successful or not (the fault injector watches it).</summary>
    public int ScoreInvocations;
    public int IngestInvocations;
    private int _ingestsStarted, _scoresStarted;
    /// <summary>Awaited before the n-th (0-based) invocation of each trigger: the test injects its fault there, so it always hits an invocation.</summary>
    public Func<int, Task> BeforeIngest { get; set; } = _ => Task.CompletedTask;
    public Func<int, Task> BeforeScore { get; set; } = _ => Task.CompletedTask;

    private QueueClient Poison => storage.Queues.GetQueueClient(storage.ClipsQueue.Name + "-poison");

    /// <summary>Ingests every blob with <paramref name="workers"/> concurrent invocations; a failure is retried after a pause.</summary>
    public async Task IngestAllAsync(IEnumerable<BlobClient> blobs, int workers)
    {
        var work = new ConcurrentQueue<(BlobClient Blob, int Attempt)>(blobs.Select(b => (b, 1)));
        int pending = work.Count;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Volatile.Read(ref pending) > 0)
            {
                if (!work.TryDequeue(out var item)) { await Task.Delay(100); continue; }
                try
                {
                    await BeforeIngest(Interlocked.Increment(ref _ingestsStarted) - 1);
                    var report = await ActivatorUtilities.CreateInstance<IngestMedia>(services)
                        .Run(storage.Uploads.GetBlobClient(item.Blob.Name), new TestFunctionContext(services, nameof(IngestMedia)));
                    IngestReports.Add(report);
                    Interlocked.Decrement(ref pending);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref _failedIngests);
                    if (item.Attempt >= PoisonBlobThreshold)
                    {
                        Interlocked.Increment(ref _blobPoison);
                        Interlocked.Decrement(ref pending);
                    }
                    else
                    {
                        await Task.Delay(visibilityTimeout);
                        work.Enqueue((item.Blob, item.Attempt + 1));
                    }
                }
                finally { Interlocked.Increment(ref IngestInvocations); }
            }
        }));
    }

    /// <summary>Runs ScoreClips until the clips queue is empty (invisible messages included), then ScoreClipsPoison for the poison queue.</summary>
    public async Task DrainAsync(TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            Azure.Storage.Queues.Models.QueueMessage[] messages;
            try
            {
                messages = (await storage.ClipsQueue.ReceiveMessagesAsync(QueueBatchSize, visibilityTimeout)).Value;
                if (messages.Length == 0)
                {
                    if ((await storage.ClipsQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0) break;
                    await Task.Delay(250);   // the rest is invisible: in a failed invocation's timeout
                    continue;
                }
            }
            catch (Exception) { continue; }   // storage down: the host's listener keeps polling
            await Task.WhenAll(messages.Select(ScoreOneAsync));
        }
        while ((await Poison.ReceiveMessagesAsync(16)).Value is { Length: > 0 } poisoned)
            foreach (var m in poisoned)
            {
                await ActivatorUtilities.CreateInstance<ScoreClipsPoison>(services).Run(m, new TestFunctionContext(services, nameof(ScoreClipsPoison)));
                await Poison.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
    }

    private async Task ScoreOneAsync(Azure.Storage.Queues.Models.QueueMessage m)
    {
        bool ok;
        try
        {
            await BeforeScore(Interlocked.Increment(ref _scoresStarted) - 1);
            ScoreOutcomes.Add(await ActivatorUtilities.CreateInstance<ScoreClips>(services).Run(m, new TestFunctionContext(services, nameof(ScoreClips))));
            ok = true;
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failedScores);
            ok = false;
        }
        finally { Interlocked.Increment(ref ScoreInvocations); }
        try
        {
            if (ok) await storage.ClipsQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            else if (m.DequeueCount >= MaxDequeueCount)
            {
                await Poison.SendMessageAsync(m.Body);
                await storage.ClipsQueue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                Interlocked.Increment(ref _poisoned);
            }
            // else: left alone, it reappears after the visibility timeout.
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _lostDeletes);
        }
    }
}
