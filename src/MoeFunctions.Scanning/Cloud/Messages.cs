using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Pipeline;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>
/// One message per clip batch on the clips-to-score queue (JSON, base64-encoded as the Functions queue trigger expects).
/// It lists every window of the batch, speech or not, so not-applicable windows reach the finalizer;
/// the clip blob holds only the speech windows' samples, PCM16 little-endian, window after window, in list order.
/// </summary>
public sealed record ClipBatchMessage
{
    public const string CurrentSchema = "moe.clip-batch/1";
    public string Schema { get; init; } = CurrentSchema;
    public required string ScanId { get; init; }
    public required int Batch { get; init; }
    public required int BatchCount { get; init; }
    /// <summary>Blob name in the clips container; null when the batch holds no speech window.</summary>
    public string? Clip { get; init; }
    public int WindowSamples { get; init; } = 48000;
    public required IReadOnlyList<ClipWindow> Windows { get; init; }
}

/// <summary>A window as ingest saw it. <paramref name="Speech"/> false: not scored, reported as not applicable.</summary>
public sealed record ClipWindow(int Index, double Start, double End, bool Speech);

/// <summary>results/{scanId}/batches/{batch}.json: one batch's window records and the model that scored them.</summary>
public sealed record BatchResult
{
    public const string CurrentSchema = "moe.batch-result/1";
    public string Schema { get; init; } = CurrentSchema;
    public required string ScanId { get; init; }
    public required int Batch { get; init; }
    public required ModelSummary Model { get; init; }
    /// <summary>Expert names in gate order, for the explanation.</summary>
    public required IReadOnlyList<string> Experts { get; init; }
    public required DecisionRule Decision { get; init; }
    public required IReadOnlyList<BatchWindow> Windows { get; init; }
    public double ScoreMs { get; init; }
    /// <summary>Time from enqueue to the start of scoring.</summary>
    public double? QueueMs { get; init; }
}

/// <summary>A window of a batch result: where it is, whether it held speech, and its score when scored.</summary>
public sealed record BatchWindow(int Index, double Start, double End, bool Speech, WindowScore? Score);

/// <summary>The notification body (Service Bus and Storage queue alike): a compact summary; the full result is the blob it names.</summary>
public sealed record ScanNotification
{
    public const string CurrentSchema = "moe.scan-notification/1";
    public string Schema { get; init; } = CurrentSchema;
    public required string ScanId { get; init; }
    public required Verdict Verdict { get; init; }
    public double? SpoofProbability { get; init; }
    public string? Reason { get; init; }
    /// <summary>"{container}/{blob}" of the upload.</summary>
    public required string Source { get; init; }
    public string? SourceETag { get; init; }
    /// <summary>"{resultsContainer}/{scanId}.json".</summary>
    public required string Result { get; init; }
    public int WindowsScored { get; init; }
    public int WindowsNotApplicable { get; init; }
    public DateTimeOffset ScannedAt { get; init; }

    public static ScanNotification From(ScanResult r, string resultsContainer) => new()
    {
        ScanId = r.ScanId,
        Verdict = r.Verdict,
        SpoofProbability = r.SpoofProbability,
        Reason = r.Reason,
        Source = $"{r.Source.Container}/{r.Source.Name}",
        SourceETag = r.Source.ETag,
        Result = $"{resultsContainer}/{CloudNames.ResultBlob(r.ScanId)}",
        WindowsScored = r.WindowsScored,
        WindowsNotApplicable = r.WindowsNotApplicable,
        ScannedAt = r.ScannedAt,
    };
}

/// <summary>Names of every blob and row the workflow writes.</summary>
public static class CloudNames
{
    /// <summary>Scan id of a blob version (the scanner's <see cref="ScanIds.ForBlob"/>): a re-upload (new ETag) is a new scan.</summary>
    public static string ScanId(string container, string name, string etag) => ScanIds.ForBlob(container, name, etag);

    public static string ClipPrefix(string scanId) => $"{scanId}/";
    public static string ClipBlob(string scanId, int batch) => $"{scanId}/{batch:D5}";
    public static string ResultBlob(string scanId) => $"{scanId}.json";
    public static string BatchResultPrefix(string scanId) => $"{scanId}/batches/";
    public static string BatchResultBlob(string scanId, int batch) => $"{scanId}/batches/{batch:D5}.json";
}
