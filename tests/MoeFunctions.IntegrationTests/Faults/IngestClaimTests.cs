using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>
/// Issue 8, the two bugs the mid-ingest outage found, reproduced deterministically with injected transport faults:
/// a trigger must never report success for an upload whose scan nobody will finish, and a broken read of the upload is
/// retried, never recorded as a Failed scan. Each test ends with the scan's one result and one notification.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class IngestClaimTests(AzuriteFixture azurite)
{
    private sealed class Bed : IAsyncDisposable
    {
        public Bed(AzuriteFixture azurite)
        {
            Chain = new CloudChain(azurite, services: s => s.AddSingleton(sp => Faults.Storage(azurite.ConnectionString, sp.GetRequiredService<MoeCloudOptions>())));
            Stage = Chain.Host.Services.GetRequiredService<IngestStage>();
            Stage.ReleasePatience = TimeSpan.FromSeconds(1);
        }

        public StorageFaults Faults { get; } = new();
        public CloudChain Chain { get; }
        /// <summary>The app's singleton stage (one instance of the app).</summary>
        public IngestStage Stage { get; }
        public string Table => Chain.Options.ScansTable;

        /// <summary>Another instance of the app: same storage, its own memory.</summary>
        public IngestStage OtherInstance(TimeSpan claimWait) => new(Chain.Storage, Chain.Host.Services.GetRequiredService<FinalizeStage>(), Chain.Options,
            Chain.Host.Services.GetRequiredService<ILogger<IngestStage>>()) { ClaimWait = claimWait };

        public async Task<(BlobClient Blob, string ScanId)> UploadAsync(string name)
        {
            var blob = await Chain.UploadAsync(FaultMedia.ShortSpeechWav(), name);
            string etag = (await blob.GetPropertiesAsync()).Value.ETag.ToString().Trim('"');
            return (blob, CloudNames.ScanId(blob.BlobContainerName, blob.Name, etag));
        }

        /// <summary>Scores every queued batch and asserts the scan ended once: Done, one result that is not Failed, one notification.</summary>
        public async Task AssertScannedOnceAsync(string scanId)
        {
            await Chain.DrainAsync();
            Assert.Equal(ScanStatus.Done, (await Chain.Storage.Scans.GetAsync(scanId))!.Status);
            var result = await Chain.ResultAsync(scanId);
            Assert.NotNull(result);
            Assert.NotEqual(Verdict.Failed, result.Verdict);
            Assert.Single(await Chain.NotificationsAsync(), n => n.ScanId == scanId);
            Assert.Empty(await Chain.BlobNamesAsync(Chain.Storage.Clips, CloudNames.ClipPrefix(scanId)));
        }

        public ValueTask DisposeAsync() => Chain.DisposeAsync();
    }

    [Fact]
    public async Task An_insert_whose_answer_was_lost_is_recognised_as_our_own_and_the_upload_is_scanned()
    {
        await using var bed = new Bed(azurite);
        await bed.Chain.CreateAsync();
        var (blob, scanId) = await bed.UploadAsync("lost-answer.wav");
        // The row insert commits, its answer is lost, the SDK retries it and gets 409 for our own row.
        bed.Faults.LoseAnswerOnce = m => StorageFaults.IsTableInsert(m, bed.Table);

        var report = await bed.Stage.RunAsync(blob, "invocation-1");

        Assert.Equal(1, bed.Faults.Injected);
        Assert.Equal(IngestOutcome.Queued, report.Outcome);
        await bed.AssertScannedOnceAsync(scanId);
    }

    [Fact]
    public async Task A_failed_ingest_that_cannot_release_its_claim_is_taken_over_by_the_retry_and_never_reported_as_done_elsewhere()
    {
        await using var bed = new Bed(azurite);
        await bed.Chain.CreateAsync();
        var (blob, scanId) = await bed.UploadAsync("outage.wav");
        // Storage goes down after the row insert: the batch messages cannot be sent, nor the claim released.
        bed.Faults.FailBefore = m => StorageFaults.IsQueue(m, bed.Chain.Options.ClipsQueue)
                                     || (StorageFaults.IsTable(m, bed.Table) && !StorageFaults.IsTableInsert(m, bed.Table));

        await Assert.ThrowsAnyAsync<Exception>(() => bed.Stage.RunAsync(blob, "invocation-1"));
        bed.Faults.FailBefore = null;   // storage is back
        var stuck = (await bed.Chain.Storage.Scans.GetAsync(scanId))!;
        Assert.Equal((ScanStatus.Ingesting, "invocation-1"), (stuck.Status, stuck.ClaimKey));

        // Another instance cannot know the owner failed: it waits, then fails its trigger so the host retries it (before: Duplicate, success, file lost).
        var busy = await Assert.ThrowsAsync<ScanInProgressException>(() => bed.OtherInstance(TimeSpan.FromSeconds(1)).RunAsync(blob, "invocation-2"));
        Assert.Equal(scanId, busy.ScanId);
        Assert.Equal("invocation-1", (await bed.Chain.Storage.Scans.GetAsync(scanId))!.ClaimKey);

        // The trigger's retry on the instance whose ingest failed takes the claim over at once.
        var retry = await bed.Stage.RunAsync(blob, "invocation-3");
        Assert.Equal(IngestOutcome.Queued, retry.Outcome);
        await bed.AssertScannedOnceAsync(scanId);
        Assert.Equal(IngestOutcome.Duplicate, (await bed.OtherInstance(TimeSpan.FromSeconds(1)).RunAsync(blob, "invocation-4")).Outcome);
    }

    [Fact]
    public async Task A_failed_ingest_whose_storage_comes_back_releases_its_claim_before_it_returns()
    {
        await using var bed = new Bed(azurite);
        await bed.Chain.CreateAsync();
        bed.Stage.ReleasePatience = TimeSpan.FromSeconds(30);
        var (blob, scanId) = await bed.UploadAsync("short-outage.wav");
        int tableFailures = 0;
        // The queue is down for the whole ingest; the table refuses the first four calls after the insert (the release's first tries).
        bed.Faults.FailBefore = m => StorageFaults.IsQueue(m, bed.Chain.Options.ClipsQueue)
                                     || (StorageFaults.IsTable(m, bed.Table) && !StorageFaults.IsTableInsert(m, bed.Table) && Interlocked.Increment(ref tableFailures) <= 4);

        await Assert.ThrowsAnyAsync<Exception>(() => bed.Stage.RunAsync(blob, "invocation-1"));
        Assert.True(tableFailures > 4, $"{tableFailures} table calls: the release was not retried");
        Assert.Null(await bed.Chain.Storage.Scans.GetAsync(scanId));   // released: any instance's retry starts clean
        bed.Faults.FailBefore = null;

        Assert.Equal(IngestOutcome.Queued, (await bed.OtherInstance(TimeSpan.FromSeconds(1)).RunAsync(blob, "invocation-2")).Outcome);
        await bed.AssertScannedOnceAsync(scanId);
    }

    [Fact]
    public async Task A_trigger_meeting_a_live_ingest_waits_for_it_and_takes_over_only_a_released_or_stale_claim()
    {
        await using var bed = new Bed(azurite);
        await bed.Chain.CreateAsync();
        var (live, liveId) = await bed.UploadAsync("live.wav");
        var (stale, staleId) = await bed.UploadAsync("stale.wav");
        await ClaimAsync(bed, live, liveId, DateTimeOffset.UtcNow);
        await ClaimAsync(bed, stale, staleId, DateTimeOffset.UtcNow - IngestStage.StaleClaim - TimeSpan.FromMinutes(1));

        await Assert.ThrowsAsync<ScanInProgressException>(() => bed.OtherInstance(TimeSpan.FromSeconds(1)).RunAsync(live, "invocation-1"));
        Assert.Equal("someone-else", (await bed.Chain.Storage.Scans.GetAsync(liveId))!.ClaimKey);

        // The owner releases its claim while a trigger waits: the waiting trigger ingests the upload itself.
        var waiting = bed.OtherInstance(TimeSpan.FromSeconds(60)).RunAsync(live, "invocation-2");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted, "the trigger did not wait for the live claim");
        await bed.Chain.Storage.Scans.TryDeleteAsync((await bed.Chain.Storage.Scans.GetAsync(liveId))!);
        Assert.Equal(IngestOutcome.Queued, (await waiting).Outcome);

        Assert.Equal(IngestOutcome.Queued, (await bed.OtherInstance(TimeSpan.FromSeconds(1)).RunAsync(stale, "invocation-3")).Outcome);
        await bed.AssertScannedOnceAsync(liveId);
        await bed.AssertScannedOnceAsync(staleId);
    }

    [Fact]
    public async Task A_broken_read_of_the_upload_is_retried_not_recorded_as_a_failed_scan()
    {
        await using var bed = new Bed(azurite);
        await bed.Chain.CreateAsync();
        var (blob, scanId) = await bed.UploadAsync("read-error.wav");
        bed.Faults.FailBefore = m => StorageFaults.IsBlobRead(m, bed.Chain.Options.UploadsContainer);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => bed.Stage.RunAsync(blob, "invocation-1"));
        Assert.IsNotType<MediaDecodeException>(e);
        Assert.True(bed.Faults.Injected >= 3, $"{bed.Faults.Injected} injected faults");
        Assert.Null(await bed.Chain.Storage.Scans.GetAsync(scanId));
        Assert.Null(await bed.Chain.ResultAsync(scanId));
        Assert.Empty(await bed.Chain.NotificationsAsync());

        bed.Faults.FailBefore = null;
        Assert.Equal(IngestOutcome.Queued, (await bed.Stage.RunAsync(blob, "invocation-2")).Outcome);
        await bed.AssertScannedOnceAsync(scanId);
    }

    private static async Task ClaimAsync(Bed bed, BlobClient blob, string scanId, DateTimeOffset claimedAt)
    {
        var (created, _) = await bed.Chain.Storage.Scans.TryCreateAsync(new ScanEntity
        {
            PartitionKey = scanId, Container = blob.BlobContainerName, Name = blob.Name, ClaimKey = "someone-else",
            ClaimedAt = claimedAt, CreatedAt = claimedAt,
        });
        Assert.True(created);
    }
}
