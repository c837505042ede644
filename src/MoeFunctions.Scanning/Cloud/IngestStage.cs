using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using MoeFunctions.Audio;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Cloud;

public enum IngestOutcome { Queued, Duplicate, Failed, Finalized }

public sealed record IngestReport(string ScanId, IngestOutcome Outcome, int Batches, int Windows, string? Reason = null);

/// <summary>
/// Thrown by a trigger that met another invocation's ingest of the same upload still in progress after
/// <see cref="IngestStage.ClaimWait"/>. Retriable on purpose: the host delivers the trigger again later (and moves it to
/// the poison queue after poisonBlobThreshold), instead of the trigger reporting success for a scan nobody may finish.
/// </summary>
public sealed class ScanInProgressException(string scanId, string? owner, DateTimeOffset? claimedAt)
    : Exception($"scan {scanId} is being ingested by invocation {owner} since {claimedAt:O}; retry the trigger later")
{
    public string ScanId { get; } = scanId;
}

/// <summary>
/// Upload -> clip batches -> queue messages. Streams the blob (never holds it whole), decodes and windows it,
/// writes PCM16 batches under clips/{scanId}/, records the scan row and enqueues one message per batch.
/// </summary>
/// <remarks>
/// A trigger reports success only once its upload's scan is durably past ingest (Queued or later): a trigger that meets
/// another invocation's ingest waits for it, takes it over when its owner is known to have failed, and otherwise throws
/// <see cref="ScanInProgressException"/> so the host retries. See docs/cloud.md, "At-least-once delivery".
/// </remarks>
public sealed class IngestStage(CloudStorage storage, FinalizeStage finalize, MoeCloudOptions options, ILogger<IngestStage> logger)
{
    /// <summary>A claim older than this belongs to an ingest that died without cleaning up; a later trigger takes it over.</summary>
    public static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(15);
    public const string FinalizeClaim = "ingest";

    /// <summary>How long a trigger that meets another invocation's live ingest waits for it before throwing <see cref="ScanInProgressException"/>.</summary>
    public TimeSpan ClaimWait { get; set; } = TimeSpan.FromSeconds(60);
    public TimeSpan ClaimPoll { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a failed ingest keeps retrying the release of its claim (storage outage) before it gives up.
    /// The host retries the trigger only after this invocation returns, so a release that succeeds lets the retry start clean.</summary>
    public TimeSpan ReleasePatience { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Claims (scan id -> invocation id) whose ingest failed and could not release them: their owner has
    /// demonstrably stopped, so a later trigger on this instance takes them over at once instead of after <see cref="StaleClaim"/>.</summary>
    private readonly ConcurrentDictionary<string, string> _abandoned = new();

    public async Task<IngestReport> RunAsync(BlobClient blob, string invocationId, CancellationToken ct = default)
    {
        var props = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
        string etag = props.ETag.ToString().Trim('"');
        string scanId = CloudNames.ScanId(blob.BlobContainerName, blob.Name, etag);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["scanId"] = scanId, ["blob"] = $"{blob.BlobContainerName}/{blob.Name}" });
        using var activity = CloudTelemetry.Source.StartActivity("moe.ingest");
        activity?.SetTag("moe.scan_id", scanId);

        var scan = await ClaimAsync(blob, props, scanId, etag, invocationId, ct);
        if (scan.Status != ScanStatus.Ingesting || scan.ClaimKey != invocationId)
        {
            logger.LogInformation("Upload already scanned or queued (status {Status}); this trigger does nothing", scan.Status);
            return new IngestReport(scanId, IngestOutcome.Duplicate, scan.BatchCount, scan.WindowCount);
        }

        try
        {
            return await IngestAsync(blob, props, scan, ct);
        }
        catch (Exception e)
        {
            // A transient fault (storage outage, a broken blob read, shutdown): undo the claim so the host's retry starts clean.
            logger.LogError(e, "Ingest failed before the scan was queued; releasing it for the trigger's retry");
            await ReleaseAsync(scanId, invocationId, retry: !ct.IsCancellationRequested);
            throw;
        }
    }

    /// <summary>
    /// Inserts the scan row with this invocation's claim, or resolves the row that is already there: past ingest (returned
    /// as is: a duplicate), this invocation's own, or another ingest's, which is taken over when its owner failed or went
    /// stale and otherwise waited for up to <see cref="ClaimWait"/>.
    /// </summary>
    private async Task<ScanEntity> ClaimAsync(BlobClient blob, BlobProperties props, string scanId, string etag, string invocationId, CancellationToken ct)
    {
        var waitUntil = DateTimeOffset.UtcNow + ClaimWait;
        bool logged = false;
        while (true)
        {
            var (created, scan) = await storage.Scans.TryCreateAsync(new ScanEntity
            {
                PartitionKey = scanId,
                Container = blob.BlobContainerName,
                Name = blob.Name,
                SourceETag = etag,
                Bytes = props.ContentLength,
                ClaimKey = invocationId,
                ClaimedAt = DateTimeOffset.UtcNow,
                CreatedAt = DateTimeOffset.UtcNow,
            }, ct);
            // Ours (created now, or our own earlier insert) or past ingest: the caller decides.
            if (created || !IsIngestClaim(scan) || scan.ClaimKey == invocationId) return scan;
            if (await TryTakeOverAsync(scan, invocationId, ct)) return scan;
            if (DateTimeOffset.UtcNow >= waitUntil)
            {
                logger.LogWarning("Ingest claimed by {Owner} at {ClaimedAt} is still in progress after {Wait}; failing this trigger for a retry",
                    scan.ClaimKey, scan.ClaimedAt, ClaimWait);
                throw new ScanInProgressException(scanId, scan.ClaimKey, scan.ClaimedAt);
            }
            if (!logged)
            {
                logger.LogInformation("Upload is being ingested by {Owner}; waiting for it", scan.ClaimKey);
                logged = true;
            }
            await Task.Delay(ClaimPoll, ct);
        }
    }

    /// <summary>A row an ingest holds: Ingesting, or Finalizing under the ingest's own failure claim.</summary>
    private static bool IsIngestClaim(ScanEntity scan) =>
        scan.Status == ScanStatus.Ingesting || (scan.Status == ScanStatus.Finalizing && scan.ClaimKey == FinalizeClaim);

    private async Task ReleaseAsync(string scanId, string invocationId, bool retry)
    {
        var giveUpAt = DateTimeOffset.UtcNow + ReleasePatience;
        var delay = TimeSpan.FromSeconds(1);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                // Not the invocation's token: the release must run even when the failure was a cancellation.
                var current = await storage.Scans.GetAsync(scanId);
                bool ours = current is not null && ((current.Status == ScanStatus.Ingesting && current.ClaimKey == invocationId)
                                                    || (current.Status == ScanStatus.Finalizing && current.ClaimKey == FinalizeClaim));
                if (!ours) return;
                await finalize.DeleteClipsAsync(scanId);
                await storage.Scans.TryDeleteAsync(current!);
                if (attempt > 1) logger.LogInformation("Released the scan after {Attempts} attempts", attempt);
                return;
            }
            catch (Exception e) when (retry && DateTimeOffset.UtcNow + delay < giveUpAt)
            {
                logger.LogWarning("Could not release the scan (attempt {Attempt}: {Error}); retrying in {Delay}", attempt, e.Message, delay);
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
            catch (Exception e)
            {
                _abandoned[scanId] = invocationId;
                logger.LogWarning(e, "Could not release the scan; a later trigger on this instance takes it over, elsewhere after {Stale}", StaleClaim);
                return;
            }
        }
    }

    private async Task<bool> TryTakeOverAsync(ScanEntity scan, string invocationId, CancellationToken ct)
    {
        bool abandoned = _abandoned.TryGetValue(scan.ScanId, out var failedOwner)
                         && (scan.ClaimKey == failedOwner || scan.ClaimKey == FinalizeClaim);
        bool stale = DateTimeOffset.UtcNow - scan.ClaimedAt >= StaleClaim;
        if (!abandoned && !stale) return false;
        logger.LogWarning("Taking over an ingest claimed by {Owner} at {ClaimedAt} that {Why}", scan.ClaimKey, scan.ClaimedAt,
            abandoned ? "failed and could not release it" : "never finished");
        scan.Status = ScanStatus.Ingesting;
        scan.ClaimKey = invocationId;
        scan.ClaimedAt = DateTimeOffset.UtcNow;
        if (!await storage.Scans.TryUpdateAsync(scan, ct)) return false;
        _abandoned.TryRemove(scan.ScanId, out _);
        return true;
    }

    private async Task<IngestReport> IngestAsync(BlobClient blob, BlobProperties props, ScanEntity scan, CancellationToken ct)
    {
        string scanId = scan.ScanId;
        if (props.ContentLength > options.MaxUploadBytes)
            return await FailAsync(scan, $"upload is {props.ContentLength} bytes, more than Moe__MaxUploadBytes ({options.MaxUploadBytes})", ct);

        var sw = Stopwatch.StartNew();
        var messages = new List<ClipBatchMessage>();
        int windowCount = 0;
        try
        {
            // If-Match pins the version the scan id names: a re-upload during the read fails instead of mixing two files.
            var stream = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false)
            {
                Conditions = new BlobRequestConditions { IfMatch = props.ETag },
                BufferSize = 4 * 1024 * 1024,
            }, ct);
            using var source = MediaDecoder.Open(stream, new DecodeOptions { MaxBytes = options.MaxUploadBytes, MaxDurationSeconds = options.MaxDurationSeconds });
            scan.Format = source.Facts.Format;
            scan.Decoder = source.Facts.Decoder;
            scan.SampleRate = source.Facts.SampleRate;
            scan.Channels = source.Facts.Channels;

            var pending = new List<AudioWindow>(options.BatchWindows);
            double end = 0;
            foreach (var window in Windower.Split(source, new WindowOptions()))
            {
                ct.ThrowIfCancellationRequested();
                pending.Add(window);
                windowCount++;
                end = Math.Max(end, window.EndSeconds);
                if (pending.Count == options.BatchWindows)
                {
                    messages.Add(await WriteBatchAsync(scanId, messages.Count, pending, ct));
                    pending.Clear();
                }
            }
            if (pending.Count > 0) messages.Add(await WriteBatchAsync(scanId, messages.Count, pending, ct));
            scan.DurationSeconds = source.Facts.DurationSeconds ?? end;
        }
        catch (MediaDecodeException e)
        {
            scan.DecodeMs = sw.Elapsed.TotalMilliseconds;
            return await FailAsync(scan, e.Message, ct);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return await FailAsync(scan, "the upload changed while it was read; its new version is scanned separately", ct);
        }
        scan.DecodeMs = sw.Elapsed.TotalMilliseconds;

        int batchCount = messages.Count;
        // Every message carries the final batch count, so they are sent once the whole file is windowed.
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i] with { BatchCount = batchCount };
            await storage.ClipsQueue.SendMessageAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(m, ScanJson.Options)), cancellationToken: ct);
        }

        scan.Status = ScanStatus.Queued;
        scan.BatchCount = batchCount;
        scan.WindowCount = windowCount;
        scan.QueuedAt = DateTimeOffset.UtcNow;
        if (!await storage.Scans.TryUpdateAsync(scan, ct))
            throw new InvalidOperationException($"scan {scanId} changed while it was ingested");
        logger.LogInformation("Queued {Batches} batches of {Windows} windows ({Format} via {Decoder}) in {Ms:F0} ms",
            batchCount, windowCount, scan.Format, scan.Decoder, scan.DecodeMs);

        // Scorers may have finished every batch before the row said Queued; then nobody else will finalize.
        bool finalized = await finalize.TryFinalizeAsync(scanId, FinalizeClaim, ct);
        return new IngestReport(scanId, finalized ? IngestOutcome.Finalized : IngestOutcome.Queued, batchCount, windowCount);
    }

    private async Task<ClipBatchMessage> WriteBatchAsync(string scanId, int batch, List<AudioWindow> windows, CancellationToken ct)
    {
        var speech = windows.Where(w => w.IsSpeech).ToList();
        string? clip = null;
        if (speech.Count > 0)
        {
            clip = CloudNames.ClipBlob(scanId, batch);
            using var buffer = new MemoryStream(speech.Count * speech[0].Samples.Length * 2);
            foreach (var w in speech) PcmCodec.Write(buffer, w.Samples);
            buffer.Position = 0;
            await storage.Clips.GetBlobClient(clip).UploadAsync(buffer, overwrite: true, ct);
        }
        return new ClipBatchMessage
        {
            ScanId = scanId,
            Batch = batch,
            BatchCount = 0,
            Clip = clip,
            WindowSamples = windows[0].Samples.Length,
            Windows = windows.Select(w => new ClipWindow(w.Index, w.StartSeconds, w.EndSeconds, w.IsSpeech)).ToList(),
        };
    }

    private async Task<IngestReport> FailAsync(ScanEntity scan, string reason, CancellationToken ct)
    {
        // Record what was learned (decode time, media facts) before the failure claim re-reads the row.
        scan.Reason = reason;
        await storage.Scans.TryUpdateAsync(scan, ct);
        await finalize.FailAsync(scan.ScanId, FinalizeClaim, reason, ct);
        return new IngestReport(scan.ScanId, IngestOutcome.Failed, 0, 0, reason);
    }
}
