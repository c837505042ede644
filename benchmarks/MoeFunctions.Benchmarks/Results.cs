namespace MoeFunctions.Benchmarks;

/// <param name="TorchWindowsPerSecond">Null when the TorchSharp column is not available in this build.</param>
/// <param name="OrtGflopsPerCpuSecond">GFLOP per second of this process's CPU time: what the busy cores achieved, whatever else ran on the machine.</param>
public sealed record ExpertRow(int Batch, double OrtWindowsPerSecond, double? TorchWindowsPerSecond, double OrtGflops, double PeakFraction,
                               double OrtGflopsPerCpuSecond = 0, double CorePeakFraction = 0)
{
    public double? OrtOverTorch => TorchWindowsPerSecond is > 0 ? OrtWindowsPerSecond / TorchWindowsPerSecond : null;
}

/// <summary>One attempt at a speed lever, measured against the scanner's ONNX Runtime settings in the same rounds.</summary>
public sealed record LeverRow(string Lever, string Setting, double WindowsPerSecond, double BaselineWindowsPerSecond)
{
    public double Relative => BaselineWindowsPerSecond > 0 ? WindowsPerSecond / BaselineWindowsPerSecond : 0;
}

/// <param name="CostRelativeToDense">Seconds per window over all rounds, relative to the first row's.</param>
/// <param name="CostRangeMin">Lowest per-round cost relative to the first row in the same round (rounds alternate the modes).</param>
/// <param name="CostRangeMax">Highest per-round cost, likewise: the spread says how far one run's ratio can be trusted.</param>
public sealed record RoutingRow(string Mode, double WindowsPerSecond, double ExpertsPerWindow, double CostRelativeToDense, double PooledEer, int Files, int Windows,
    double CostRangeMin, double CostRangeMax);

/// <param name="ManagedRealTime">Seconds of audio decoded per wall second through MediaDecoder, after one untimed decode.</param>
/// <param name="FfmpegRealTime">Seconds of audio per wall second for the ffmpeg process on the same file.</param>
/// <param name="ManagedCores">CPU seconds of this process per wall second while MediaDecoder ran (MP3 decodes on several cores).</param>
/// <param name="ManagedFirstRealTime">The first decode of that format in the process, while the JIT compiles its code.</param>
public sealed record DecodeRow(string Format, string Decoder, double AudioSeconds, double ManagedRealTime, double FfmpegRealTime,
    double ManagedCores, double ManagedFirstRealTime)
{
    public double Ratio => FfmpegRealTime > 0 ? ManagedRealTime / FfmpegRealTime : 0;
}

/// <param name="WallSeconds">The median of <see cref="Rounds"/> runs (an odd number in full mode).</param>
/// <param name="Precision">The experts' arithmetic the scan reported it ran with: "fp32" or "int8".</param>
public sealed record EndToEndRow(string Input, double AudioSeconds, double WallSeconds, double PeakMegabytes, int Files, string Command, string Precision = "fp32")
{
    /// <summary>"default", or the precision option the scan was given.</summary>
    public string Option { get; init; } = "default";
    public int Rounds { get; init; } = 1;
    public double WallMin { get; init; }
    public double WallMax { get; init; }
    public double RealTime => WallSeconds > 0 ? AudioSeconds / WallSeconds : 0;
}

/// <summary>One expert's accuracy with FP32 and INT8 weights on its own domain's DEV files.</summary>
/// <param name="MaxBonafideDifference">Largest |P(bona fide)| change of this expert over every scored window (all domains).</param>
public sealed record Int8ExpertRow(string Expert, string Domain, int Files, int Windows, double Fp32Eer, double Int8Eer, double MaxBonafideDifference)
{
    /// <summary>INT8 minus FP32, in EER points (percent).</summary>
    public double EerChangePoints => 100 * (Int8Eer - Fp32Eer);
}

/// <summary>The accuracy side of the INT8 lever for one weight format: per expert, and the dense enhanced-gate MoE pooled over the DEV files.</summary>
public sealed record Int8Accuracy(string Format, IReadOnlyList<Int8ExpertRow> Experts, double PooledFp32Eer, double PooledInt8Eer, int PooledFiles,
                                  double MaxBonafideDifference, double MaxFusedBonafideDifference);

public sealed class BenchReport
{
    public required Machine Machine { get; init; }
    public required BenchOptions Options { get; init; }
    public DateTime StartedUtc { get; init; } = DateTime.UtcNow;
    public string LoadBefore { get; init; } = Machine.LoadAverage();
    public string LoadAfter { get; set; } = "";
    public double TotalSeconds { get; set; }

    public List<ExpertRow> Expert { get; } = [];
    public string TorchNote { get; set; } = "";
    public List<LeverRow> Levers { get; } = [];
    /// <summary>INT8 accuracy per weight format (the first is the format the levers table's first INT8 row uses).</summary>
    public List<Int8Accuracy> Int8 { get; } = [];
    public string Int8Note { get; set; } = "";
    public List<RoutingRow> Routing { get; } = [];
    public string RoutingNote { get; set; } = "";
    public List<DecodeRow> Decoding { get; } = [];
    public List<EndToEndRow> EndToEnd { get; } = [];
    public string EndToEndNote { get; set; } = "";
}
