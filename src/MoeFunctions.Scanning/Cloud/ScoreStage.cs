using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Cloud;

public enum ScoreOutcome { Scored, Finalized, Skipped }

/// <summary>
/// One clip batch: PCM16 windows -> gate -> selected experts -> results/{scanId}/batches/{batch}.json, then the batch is
/// marked done and the scan finalized if this was the last one. Safe to run twice for the same message.
/// </summary>
public sealed class ScoreStage(CloudStorage storage, IWindowScorer scorer, FinalizeStage finalize, ILogger<ScoreStage> logger)
{
    public static ClipBatchMessage Parse(BinaryData body) =>
        body.ToObjectFromJson<ClipBatchMessage>(ScanJson.Options) ?? throw new InvalidDataException("empty clip batch message");

    public static string ClaimKey(int batch) => $"batch-{batch:D5}";

    public async Task<ScoreOutcome> RunAsync(ClipBatchMessage message, DateTimeOffset? enqueuedAt = null, CancellationToken ct = default)
    {
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["scanId"] = message.ScanId, ["batch"] = message.Batch });
        using var activity = CloudTelemetry.Source.StartActivity("moe.score");
        activity?.SetTag("moe.scan_id", message.ScanId);
        activity?.SetTag("moe.batch", message.Batch);

        var scan = await storage.Scans.GetAsync(message.ScanId, ct);
        if (scan is null || scan.IsTerminal)
        {
            // No row: the ingest that sent this failed and its retry re-sends the batch. Terminal: a late duplicate.
            logger.LogInformation("Batch {Batch} skipped: scan is {Status}", message.Batch, scan?.Status ?? "unknown");
            return ScoreOutcome.Skipped;
        }

        double? queueMs = enqueuedAt is { } t ? Math.Max(0, (DateTimeOffset.UtcNow - t).TotalMilliseconds) : null;
        var sw = Stopwatch.StartNew();
        var speech = message.Windows.Where(w => w.Speech).ToList();
        IReadOnlyList<WindowScore> scores = [];
        if (speech.Count > 0)
        {
            var clip = await storage.Clips.GetBlobClient(message.Clip).DownloadContentAsync(ct);
            var samples = PcmCodec.ReadWindows(clip.Value.Content.ToMemory().Span, message.WindowSamples, speech.Count);
            scores = scorer.Score(samples);
        }
        double scoreMs = sw.Elapsed.TotalMilliseconds;

        int next = 0;
        var windows = message.Windows.Select(w => new BatchWindow(w.Index, w.Start, w.End, w.Speech, w.Speech ? scores[next++] : null)).ToList();
        var result = new BatchResult
        {
            ScanId = message.ScanId,
            Batch = message.Batch,
            Model = scorer.Model,
            Experts = scorer.Manifest.Experts.Select(e => e.Name).ToList(),
            Decision = scorer.Manifest.Decision,
            Windows = windows,
            ScoreMs = scoreMs,
            QueueMs = queueMs,
        };
        await storage.Results.GetBlobClient(CloudNames.BatchResultBlob(message.ScanId, message.Batch)).UploadAsync(
            BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(result, ScanJson.Options)),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, ct);
        // The marker follows the result blob, so a finalizer that counts every marker finds every result.
        await storage.Scans.MarkBatchDoneAsync(message.ScanId, message.Batch, ct);
        logger.LogInformation("Batch {Batch}/{Count}: {Speech} of {Windows} windows scored in {Ms:F0} ms",
            message.Batch + 1, message.BatchCount, speech.Count, windows.Count, scoreMs);

        return await finalize.TryFinalizeAsync(message.ScanId, ClaimKey(message.Batch), ct) ? ScoreOutcome.Finalized : ScoreOutcome.Scored;
    }
}

/// <summary>clips-to-score-poison: a batch that failed every delivery ends its scan as Failed, so nothing is lost silently.</summary>
public sealed class PoisonStage(FinalizeStage finalize, ILogger<PoisonStage> logger)
{
    public async Task<bool> RunAsync(BinaryData body, CancellationToken ct = default)
    {
        ClipBatchMessage message;
        try { message = ScoreStage.Parse(body); }
        catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
        {
            logger.LogError(e, "Poison message is not a clip batch and names no scan; dropped: {Body}", Truncate(body.ToString()));
            return false;
        }
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["scanId"] = message.ScanId, ["batch"] = message.Batch });
        return await finalize.FailAsync(message.ScanId, ScoreStage.ClaimKey(message.Batch),
            $"clip batch {message.Batch + 1} of {message.BatchCount} could not be scored after repeated attempts", ct);
    }

    private static string Truncate(string s) => s.Length <= 512 ? s : s[..512] + "...";
}
