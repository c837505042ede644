using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Scanning.Tests.Cloud;

[Collection(AzuriteCollection.Name)]
public sealed class FinalizeStageTests(AzuriteFixture azurite)
{
    private static ModelSummary Model(bool trained) => new() { Name = "test", Version = "1", Sha256 = "abc", Trained = trained, Threshold = 0.5 };

    /// <summary>A queued scan whose batches are all scored: 8 windows per batch, every third one not speech.</summary>
    private static async Task<string> ScoredScanAsync(CloudTestBed bed, int batches, double spoof, bool trained = true)
    {
        string scanId = CloudNames.ScanId(bed.Options.UploadsContainer, "voice.wav", Guid.NewGuid().ToString());
        await bed.Storage.Scans.TryCreateAsync(new ScanEntity
        {
            PartitionKey = scanId, Status = ScanStatus.Queued, Container = bed.Options.UploadsContainer, Name = "voice.wav",
            SourceETag = "0x1", Bytes = 1234, BatchCount = batches, CreatedAt = DateTimeOffset.UtcNow, Format = "wav", Decoder = "NAudio.Core",
            SampleRate = 16000, Channels = 1, DurationSeconds = batches * 8 * 3,
        });
        for (int b = 0; b < batches; b++)
        {
            var windows = Enumerable.Range(b * 8, 8).Select(i => new BatchWindow(i, i * 3.0, i * 3.0 + 3, i % 3 != 2,
                i % 3 != 2 ? new WindowScore(spoof, 1 - spoof, [0.75f, 0.25f], [(float)(1 - spoof), float.NaN]) : null)).ToList();
            var result = new BatchResult
            {
                ScanId = scanId, Batch = b, Model = Model(trained), Experts = ["asv19", "itw"], Decision = new DecisionRule(), Windows = windows, ScoreMs = 10,
            };
            await bed.Storage.Results.GetBlobClient(CloudNames.BatchResultBlob(scanId, b))
                .UploadAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(result, ScanJson.Options)));
            await bed.Storage.Clips.GetBlobClient(CloudNames.ClipBlob(scanId, b)).UploadAsync(BinaryData.FromBytes(new byte[96000]));
            await bed.Storage.Scans.MarkBatchDoneAsync(scanId, b);
        }
        return scanId;
    }

    [Fact]
    public async Task Eight_concurrent_last_batches_finalize_exactly_once()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        string scanId = await ScoredScanAsync(bed, batches: 8, spoof: 0.9);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(b =>
            Task.Run(() => bed.Finalize.TryFinalizeAsync(scanId, ScoreStage.ClaimKey(b)))));

        Assert.Equal(1, outcomes.Count(o => o));
        var notifications = await bed.DrainNotificationsAsync();
        var n = Assert.Single(notifications);
        Assert.Equal(scanId, n.ScanId);
        Assert.Equal(Verdict.Fake, n.Verdict);
        Assert.Equal($"{bed.Options.ResultsContainer}/{scanId}.json", n.Result);

        var result = await bed.ReadResultAsync(scanId);
        Assert.NotNull(result);
        Assert.Equal(Verdict.Fake, result.Verdict);
        Assert.Equal(64, result.Windows.Count);
        Assert.Equal(Enumerable.Range(0, 64), result.Windows.Select(w => w.Index));
        // Indices 2, 5, ..., 62 are not speech: 21 not applicable, 43 scored.
        Assert.Equal(43, result.WindowsScored);
        Assert.Equal(21, result.WindowsNotApplicable);
        Assert.All(result.Windows.Where(w => !w.Speech), w => Assert.Null(w.Score));
        Assert.Null(result.Windows.First(w => w.Speech).Experts![1]);
        Assert.Equal(0.75, result.ExpertWeights["asv19"], 3);
        Assert.Equal("voice.wav", result.Source.Name);
        Assert.Equal("0x1", result.Source.ETag);
        Assert.Equal(80, result.Timings.ScoreMs);
        Assert.Equal(ScanStatus.Done, (await bed.Storage.Scans.GetAsync(scanId))!.Status);
        Assert.Equal(0, await bed.CountBlobsAsync(bed.Storage.Clips, CloudNames.ClipPrefix(scanId)));

        // A late duplicate after the end changes nothing.
        Assert.False(await bed.Finalize.TryFinalizeAsync(scanId, ScoreStage.ClaimKey(3)));
        Assert.Empty(await bed.DrainNotificationsAsync());
    }

    [Fact]
    public async Task An_untrained_bundle_withholds_the_verdict_but_keeps_the_scores()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        string scanId = await ScoredScanAsync(bed, batches: 2, spoof: 0.95, trained: false);
        Assert.True(await bed.Finalize.TryFinalizeAsync(scanId, ScoreStage.ClaimKey(1)));
        var result = (await bed.ReadResultAsync(scanId))!;
        Assert.Equal(Verdict.Uncertain, result.Verdict);
        Assert.Equal(FinalizeStage.UntrainedReason, result.Reason);
        Assert.Equal(0.95, result.SpoofProbability!.Value, 6);
        Assert.Equal(Verdict.Uncertain, Assert.Single(await bed.DrainNotificationsAsync()).Verdict);
    }

    [Fact]
    public async Task A_scan_with_a_batch_still_missing_is_not_finalized()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        string scanId = await ScoredScanAsync(bed, batches: 2, spoof: 0.1);
        var scan = (await bed.Storage.Scans.GetAsync(scanId))!;
        scan.BatchCount = 3;
        Assert.True(await bed.Storage.Scans.TryUpdateAsync(scan));

        Assert.False(await bed.Finalize.TryFinalizeAsync(scanId, ScoreStage.ClaimKey(1)));
        Assert.Null(await bed.ReadResultAsync(scanId));
        Assert.Empty(await bed.DrainNotificationsAsync());
    }

    [Fact]
    public async Task Poison_message_fails_its_scan_once_with_a_reason_and_a_notification()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        string scanId = await ScoredScanAsync(bed, batches: 2, spoof: 0.1);
        var poison = new PoisonStage(bed.Finalize, NullLogger<PoisonStage>.Instance);
        var message = new ClipBatchMessage { ScanId = scanId, Batch = 1, BatchCount = 2, Windows = [] };
        var body = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, ScanJson.Options));

        Assert.True(await poison.RunAsync(body));
        Assert.False(await poison.RunAsync(body));
        Assert.False(await poison.RunAsync(BinaryData.FromString("not json")));

        var n = Assert.Single(await bed.DrainNotificationsAsync());
        Assert.Equal(Verdict.Failed, n.Verdict);
        var result = (await bed.ReadResultAsync(scanId))!;
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Contains("clip batch 2 of 2", result.Reason);
        Assert.Equal(ScanStatus.Failed, (await bed.Storage.Scans.GetAsync(scanId))!.Status);
        Assert.Equal(0, await bed.CountBlobsAsync(bed.Storage.Clips, CloudNames.ClipPrefix(scanId)));
        // Finalize after the failure does nothing.
        Assert.False(await bed.Finalize.TryFinalizeAsync(scanId, ScoreStage.ClaimKey(0)));
    }
}
