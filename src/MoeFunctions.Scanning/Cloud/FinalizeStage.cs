using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using MoeFunctions.Detection;
using MoeFunctions.Audio;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Pipeline;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>
/// Ends a scan exactly once: the invocation that wins the claim on the scan row writes results/{scanId}.json,
/// sends the one notification, marks the row Done or Failed and deletes the clip batches.
/// </summary>
public sealed class FinalizeStage(CloudStorage storage, INotificationSink notifier, MoeCloudOptions options, ILogger<FinalizeStage> logger)
{
    /// <summary>An untrained bundle's scores are placeholders: the verdict is withheld (same wording as `moe scan`).</summary>
    public const string UntrainedReason = ScanResultBuilder.UntrainedReason;

    private static readonly string[] FromQueued = [ScanStatus.Queued];
    private static readonly string[] FromAnyLive = [ScanStatus.Ingesting, ScanStatus.Queued];

    /// <summary>When every batch of the scan is done, tries to finalize; true only for the one invocation that did.</summary>
    public async Task<bool> TryFinalizeAsync(string scanId, string claimKey, CancellationToken ct = default)
    {
        var scan = await storage.Scans.GetAsync(scanId, ct);
        if (scan is null || scan.IsTerminal || scan.Status == ScanStatus.Ingesting) return false;
        if (await storage.Scans.CountDoneBatchesAsync(scanId, ct) < scan.BatchCount) return false;

        var claimed = await storage.Scans.TryClaimAsync(scanId, claimKey, FromQueued, ct);
        if (claimed is null)
        {
            logger.LogDebug("Scan {ScanId} is finalized by another invocation", scanId);
            return false;
        }

        var sw = Stopwatch.StartNew();
        var batches = await ReadBatchResultsAsync(scanId, ct);
        if (batches.Count != claimed.BatchCount)
            throw new InvalidOperationException($"scan {scanId}: {batches.Count} batch results for {claimed.BatchCount} batches");
        var result = Build(claimed, batches);
        await CompleteAsync(claimed, result, ct);
        logger.LogInformation("Scan {ScanId} finalized: {Verdict} p={Probability} over {Windows} windows in {Ms:F0} ms",
            scanId, result.Verdict, result.SpoofProbability, result.Windows.Count, sw.Elapsed.TotalMilliseconds);
        return true;
    }

    /// <summary>Ends a live scan as Failed with <paramref name="reason"/> (undecodable upload, poisoned batch). No-op when it already ended.</summary>
    public async Task<bool> FailAsync(string scanId, string claimKey, string reason, CancellationToken ct = default)
    {
        var claimed = await storage.Scans.TryClaimAsync(scanId, claimKey, FromAnyLive, ct);
        if (claimed is null)
        {
            logger.LogInformation("Scan {ScanId} already ended; failure '{Reason}' not recorded again", scanId, reason);
            return false;
        }
        var result = ScanResultBuilder.Failed(scanId, SourceOf(claimed), reason, ModelOf(claimed), TimingsOf(claimed, []),
            DateTimeOffset.UtcNow, FactsOf(claimed), claimed.DurationSeconds ?? 0);
        await CompleteAsync(claimed, result, ct);
        logger.LogWarning("Scan {ScanId} failed: {Reason}", scanId, reason);
        return true;
    }

    private async Task CompleteAsync(ScanEntity claimed, ScanResult result, CancellationToken ct)
    {
        await storage.Results.GetBlobClient(CloudNames.ResultBlob(result.ScanId)).UploadAsync(
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(result, ScanJson.Indented)),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, ct);
        await notifier.NotifyAsync(ScanNotification.From(result, options.ResultsContainer), ct);

        claimed.Status = result.Verdict == Verdict.Failed ? ScanStatus.Failed : ScanStatus.Done;
        claimed.Verdict = result.Verdict.ToString();
        claimed.Reason = result.Reason;
        claimed.FinishedAt = DateTimeOffset.UtcNow;
        if (!await storage.Scans.TryUpdateAsync(claimed, ct))
            logger.LogWarning("Scan {ScanId}: the finished state could not be recorded (row changed under the claim)", result.ScanId);
        await DeleteClipsAsync(result.ScanId, ct);
    }

    public async Task DeleteClipsAsync(string scanId, CancellationToken ct = default)
    {
        await foreach (var blob in storage.Clips.GetBlobsAsync(BlobTraits.None, BlobStates.None, CloudNames.ClipPrefix(scanId), cancellationToken: ct))
            await storage.Clips.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: ct);
    }

    private async Task<List<BatchResult>> ReadBatchResultsAsync(string scanId, CancellationToken ct)
    {
        var list = new List<BatchResult>();
        await foreach (var blob in storage.Results.GetBlobsAsync(BlobTraits.None, BlobStates.None, CloudNames.BatchResultPrefix(scanId), cancellationToken: ct))
        {
            var content = await storage.Results.GetBlobClient(blob.Name).DownloadContentAsync(ct);
            list.Add(content.Value.Content.ToObjectFromJson<BatchResult>(ScanJson.Options)
                     ?? throw new InvalidDataException($"empty batch result {blob.Name}"));
        }
        return list;
    }

    private ScanResult Build(ScanEntity scan, List<BatchResult> batches)
    {
        var windows = batches.SelectMany(b => b.Windows).OrderBy(w => w.Index)
            .Select(w => new WindowOutcome(w.Index, w.Start, w.End, w.Speech, w.Score)).ToList();
        var model = batches.Count > 0 ? batches[0].Model : ModelOf(scan);
        var verdict = batches.Count > 0
            ? FileAggregator.Aggregate(windows, batches[0].Decision, batches[0].Experts)
            : new FileVerdict(Verdict.NotApplicable, null, [], new Dictionary<string, double>(), 0, 0);
        var facts = FactsOf(scan) ?? new MediaFacts("unknown", "none", 0, 0, null);
        return ScanResultBuilder.Scored(scan.ScanId, SourceOf(scan), facts, scan.DurationSeconds ?? 0, windows, verdict, model,
            TimingsOf(scan, batches), DateTimeOffset.UtcNow);
    }

    private static MediaFacts? FactsOf(ScanEntity s) =>
        s.Format is null ? null : new MediaFacts(s.Format, s.Decoder ?? "", s.SampleRate ?? 0, s.Channels ?? 0, s.DurationSeconds);

    private static ScanSource SourceOf(ScanEntity s) => new() { Container = s.Container, Name = s.Name, ETag = s.SourceETag, Bytes = s.Bytes };

    /// <summary>A failure before any batch was scored has no model to report; the summary says so.</summary>
    private static ModelSummary ModelOf(ScanEntity s) => new() { Name = "none", Version = "", Sha256 = "" };

    private static ScanTimings TimingsOf(ScanEntity s, List<BatchResult> batches) => new()
    {
        DecodeMs = s.DecodeMs,
        ScoreMs = batches.Sum(b => b.ScoreMs),
        QueueMs = batches.Count == 0 ? null : batches.Max(b => b.QueueMs ?? 0),
        TotalMs = (DateTimeOffset.UtcNow - s.CreatedAt).TotalMilliseconds,
    };
}
