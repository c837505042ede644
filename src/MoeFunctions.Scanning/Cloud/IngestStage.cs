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
/// Upload -> clip batches -> queue messages. Streams the blob (never holds it whole), decodes and windows it,
/// writes PCM16 batches under clips/{scanId}/, records the scan row and enqueues one message per batch.
/// </summary>
public sealed class IngestStage(CloudStorage storage, FinalizeStage finalize, MoeCloudOptions options, ILogger<IngestStage> logger)
{
    /// <summary>A claim older than this belongs to an ingest that died without cleaning up; a later trigger takes it over.</summary>
    public static readonly TimeSpan StaleClaim = TimeSpan.FromMinutes(15);
    public const string FinalizeClaim = "ingest";

    public async Task<IngestReport> RunAsync(BlobClient blob, string invocationId, CancellationToken ct = default)
    {
        var props = (await blob.GetPropertiesAsync(cancellationToken: ct)).Value;
        string etag = props.ETag.ToString().Trim('"');
        string scanId = CloudNames.ScanId(blob.BlobContainerName, blob.Name, etag);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["scanId"] = scanId, ["blob"] = $"{blob.BlobContainerName}/{blob.Name}" });
        using var activity = CloudTelemetry.Source.StartActivity("moe.ingest");
        activity?.SetTag("moe.scan_id", scanId);

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
        if (!created && !await TryTakeOverAsync(scan, invocationId, ct))
        {
            logger.LogInformation("Upload already scanned or being scanned (status {Status}); this trigger does nothing", scan.Status);
            return new IngestReport(scanId, IngestOutcome.Duplicate, scan.BatchCount, scan.WindowCount);
        }

        try
        {
            return await IngestAsync(blob, props, scan, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // A transient fault (storage outage, timeout): undo the claim so the host's retry of this trigger starts clean.
            logger.LogError(e, "Ingest failed before the scan was queued; releasing it for the trigger's retry");
            await ReleaseAsync(scanId, invocationId);
            throw;
        }
    }

    private async Task ReleaseAsync(string scanId, string invocationId)
    {
        try
        {
            var current = await storage.Scans.GetAsync(scanId);
            bool ours = current is not null && ((current.Status == ScanStatus.Ingesting && current.ClaimKey == invocationId)
                                                || (current.Status == ScanStatus.Finalizing && current.ClaimKey == FinalizeClaim));
            if (!ours) return;
            await finalize.DeleteClipsAsync(scanId);
            await storage.Scans.TryDeleteAsync(current!);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not release the scan; a later trigger takes it over after {Stale}", StaleClaim);
        }
    }

    private async Task<bool> TryTakeOverAsync(ScanEntity scan, string invocationId, CancellationToken ct)
    {
        if (scan.Status != ScanStatus.Ingesting || DateTimeOffset.UtcNow - scan.ClaimedAt < StaleClaim) return false;
        logger.LogWarning("Taking over an ingest claimed by {Owner} at {ClaimedAt} that never finished", scan.ClaimKey, scan.ClaimedAt);
        scan.ClaimKey = invocationId;
        scan.ClaimedAt = DateTimeOffset.UtcNow;
        return await storage.Scans.TryUpdateAsync(scan, ct);
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
