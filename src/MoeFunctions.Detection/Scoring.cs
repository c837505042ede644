using Microsoft.Extensions.Logging;

namespace MoeFunctions.Detection;

public enum ExecutionDevice { Cpu, Cuda }

/// <summary>Per-run choices; null values take the bundle's routing defaults.</summary>
public sealed record ScorerOptions
{
    public RoutingMode? Mode { get; init; }
    public int? TopK { get; init; }
    public GateKind? Gate { get; init; }
    public double? CascadeMargin { get; init; }
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    /// <summary>ONNX Runtime intra-op threads; 0 = runtime default.</summary>
    public int IntraOpThreads { get; init; }
}

/// <summary>The score of one window.</summary>
/// <param name="SpoofProbability">Calibrated P(spoof) in [0,1].</param>
/// <param name="FusedBonafide">Gate-weighted (renormalised over the experts run) bona-fide probability before calibration.</param>
/// <param name="GateWeights">The gate's softmax over all experts (length E), before top-k.</param>
/// <param name="ExpertBonafide">Each expert's bona-fide probability; NaN for experts not run on this window.</param>
public sealed record WindowScore(double SpoofProbability, double FusedBonafide, float[] GateWeights, float[] ExpertBonafide)
{
    public int ExpertsRun => ExpertBonafide.Count(v => !float.IsNaN(v));
}

/// <summary>Gate -> selected experts -> fusion -> calibration, over batches of 48,000-sample windows. Sessions are created once; thread-safe for concurrent Score calls.</summary>
public sealed class MoeScorer : IDisposable
{
    public MoeScorer(ModelBundle bundle, ScorerOptions? options = null, ILogger? logger = null) =>
        throw new NotImplementedException();

    /// <summary>"cpu" or "cuda": what actually runs (CUDA falls back to CPU with one warning).</summary>
    public string ActiveDevice => throw new NotImplementedException();

    public ModelBundle Bundle => throw new NotImplementedException();

    public IReadOnlyList<WindowScore> Score(IReadOnlyList<float[]> windows) => throw new NotImplementedException();

    public void Dispose() { }
}
