using System.Text.Json.Serialization;

namespace MoeFunctions.Detection;

/// <summary>moe.json: the manifest of a model bundle folder. Schema documented in docs/model-bundle.md.</summary>
public sealed record BundleManifest
{
    public const string CurrentSchema = "moe.bundle/1";

    public string Schema { get; init; } = CurrentSchema;
    public required string Name { get; init; }
    public required string Version { get; init; }
    /// <summary>False for bundles with untrained weights: their scores must never be shown as verdicts.</summary>
    public bool Trained { get; init; }
    public string? Description { get; init; }
    public int SampleRate { get; init; } = 16000;
    public int WindowSamples { get; init; } = 48000;
    public int DefaultHopSamples { get; init; } = 48000;
    public FrontEndSpec FrontEnd { get; init; } = new();
    public required IReadOnlyList<ExpertEntry> Experts { get; init; }
    public required GateFiles Gates { get; init; }
    public RoutingDefaults Routing { get; init; } = new();
    public Calibration Calibration { get; init; } = new();
    public DecisionRule Decision { get; init; } = new();
    /// <summary>Which corpus sources the weights saw (data-licence bookkeeping).</summary>
    public TrainingProvenance? Training { get; init; }
}

/// <summary>DESIGN.md section 1 front end; the numbers are checked at load so a bundle cannot silently expect another one.</summary>
public sealed record FrontEndSpec
{
    public string Kind { get; init; } = "logmel";
    public int NFft { get; init; } = 512;
    public int WinLength { get; init; } = 400;
    public int HopLength { get; init; } = 160;
    public double FMin { get; init; } = 20;
    public double FMax { get; init; } = 7600;
    public int NMels { get; init; } = 80;
    public double PreEmphasis { get; init; } = 0.97;
    public double LogOffset { get; init; } = 1e-6;
    public bool MeanNormalise { get; init; } = true;
}

public sealed record ExpertEntry
{
    public required string Name { get; init; }
    /// <summary>Data domain it was trained on, shown to users as the explanation.</summary>
    public required string Domain { get; init; }
    public required string File { get; init; }
    public required string Sha256 { get; init; }
    /// <summary>INT8 calibration (written by `moe quantize`); with it the scorer can run this expert with INT8 convolutions,
    /// quantizing the FP32 file at load. Null: FP32 only.</summary>
    public ExpertInt8? Int8 { get; init; }
}

/// <summary>What <see cref="OnnxGraphWriter.WriteQuantizedExpert"/> needs beside the FP32 weights: the weight format and every
/// convolution's calibrated input and output range, keyed by the conv's number in <see cref="ModelNames.LcnnConvs"/>.</summary>
public sealed record ExpertInt8
{
    public Int8Weights Weights { get; init; } = Int8Weights.U8S8ReducedRange;
    public required IReadOnlyDictionary<int, ConvActivationRange> Ranges { get; init; }
    /// <summary>Which windows the ranges came from (provenance, free text).</summary>
    public string? Calibration { get; init; }
}

public sealed record GateFile
{
    public required string File { get; init; }
    public required string Sha256 { get; init; }
}

public sealed record GateFiles
{
    public GateFile? Classic { get; init; }
    public GateFile? Enhanced { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<RoutingMode>))]
public enum RoutingMode { Sparse, Dense, Cascade }

[JsonConverter(typeof(JsonStringEnumConverter<GateKind>))]
public enum GateKind { Classic, Enhanced }

public sealed record RoutingDefaults
{
    public RoutingMode Mode { get; init; } = RoutingMode.Sparse;
    public int TopK { get; init; } = 2;
    public GateKind Gate { get; init; } = GateKind.Classic;
    /// <summary>Cascade: a window whose top-1 fused P(spoof) lies within this distance of the threshold gets the next expert too.</summary>
    public double CascadeMargin { get; init; } = 0.15;
}

/// <summary>Logistic calibration: P(spoof) = sigmoid(A * logit(fused spoof probability) + B). Fitted on dev splits.</summary>
public sealed record Calibration
{
    public double A { get; init; } = 1;
    public double B { get; init; }
}

/// <summary>File verdict rule: P(spoof) at or above Threshold + UncertainBand is Fake, below Threshold - UncertainBand is Real, in between Uncertain.</summary>
public sealed record DecisionRule
{
    public double Threshold { get; init; } = 0.5;
    public double UncertainBand { get; init; } = 0.15;
}

public sealed record TrainingProvenance
{
    public IReadOnlyList<string> Sources { get; init; } = [];
    public string? Corpus { get; init; }
    public string? Notes { get; init; }
}
