using System.Text.Json;
using System.Text.Json.Serialization;
using MoeFunctions.Detection;

namespace MoeFunctions.Scanning.Contracts;

/// <summary>
/// The one result document of a scanned file, written by `moe scan` and by the cloud finalizer alike
/// (results/{scanId}.json). Documented in the README ("Result schema"). Holds no audio.
/// </summary>
public sealed record ScanResult
{
    public const string CurrentSchema = "moe.scan-result/1";

    public string Schema { get; init; } = CurrentSchema;
    public required string ScanId { get; init; }
    public required ScanSource Source { get; init; }
    public required Verdict Verdict { get; init; }
    /// <summary>Calibrated file-level P(spoof); null for NotApplicable and Failed.</summary>
    public double? SpoofProbability { get; init; }
    /// <summary>Why the file Failed or is NotApplicable; null otherwise.</summary>
    public string? Reason { get; init; }
    public MediaSummary? Media { get; init; }
    public required ModelSummary Model { get; init; }
    /// <summary>Mean gate weight per expert name over the scored windows: which domain the file resembles.</summary>
    public IReadOnlyDictionary<string, double> ExpertWeights { get; init; } = new Dictionary<string, double>();
    public IReadOnlyList<Segment> Timeline { get; init; } = [];
    public IReadOnlyList<WindowRecord> Windows { get; init; } = [];
    public int WindowsScored { get; init; }
    public int WindowsNotApplicable { get; init; }
    public ScanTimings Timings { get; init; } = new();
    public DateTimeOffset ScannedAt { get; init; }
}

/// <summary>Where the file came from: a local path, or a blob (container/name/etag).</summary>
public sealed record ScanSource
{
    public string? Path { get; init; }
    public string? Container { get; init; }
    public string? Name { get; init; }
    public string? ETag { get; init; }
    public long? Bytes { get; init; }
}

public sealed record MediaSummary(string Format, string Decoder, int SampleRate, int Channels, double DurationSeconds);

/// <summary>The bundle and the routing that produced the scores.</summary>
public sealed record ModelSummary
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    public required string Sha256 { get; init; }
    public bool Trained { get; init; }
    public RoutingMode Mode { get; init; }
    public int TopK { get; init; }
    public GateKind Gate { get; init; }
    public string Device { get; init; } = "cpu";
    /// <summary>"fp32", or "int8" when the experts ran INT8 convolutions quantized from the bundle's calibration.</summary>
    public string Precision { get; init; } = "fp32";
    public double Threshold { get; init; }
    /// <summary>Half-width of the Uncertain band around <see cref="Threshold"/>.</summary>
    public double UncertainBand { get; init; }
    /// <summary>The experts in bundle order: index i names column i of <see cref="WindowRecord.Gate"/> and <see cref="WindowRecord.Experts"/>.</summary>
    public IReadOnlyList<ExpertSummary> Experts { get; init; } = [];
}

public sealed record ExpertSummary(string Name, string Domain);

/// <summary>One window's score: calibrated P(spoof), gate weights and expert bona-fide probabilities (null where not run).</summary>
public sealed record WindowRecord
{
    public int Index { get; init; }
    public double Start { get; init; }
    public double End { get; init; }
    public bool Speech { get; init; }
    public double? Score { get; init; }
    public float[]? Gate { get; init; }
    public float?[]? Experts { get; init; }
}

public sealed record ScanTimings
{
    public double DecodeMs { get; init; }
    public double ScoreMs { get; init; }
    public double TotalMs { get; init; }
    public double? QueueMs { get; init; }
}

/// <summary>One JSON convention for every document the product writes.</summary>
public static class ScanJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true };
}
