namespace MoeFunctions.Benchmarks;

/// <summary>What one benchmark run measures and with how much data. <see cref="Small"/> keeps the whole run to seconds for the test suite.</summary>
public sealed record BenchOptions
{
    public bool Small { get; init; }
    /// <summary>Only the ONNX Runtime levers of the expert section (speed and memory settings side by side), nothing else.</summary>
    public bool LeversOnly { get; init; }
    /// <summary>Corpus folder with manifest.csv (path,label,domain,split,...); the routing section is skipped with a note when it is absent.</summary>
    public string CorpusDirectory { get; init; } = "/work/corpus";
    /// <summary>Model bundle for routing and end to end; null = models/default next to this program.</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>Scratch folder for the generated media.</summary>
    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "moe-bench");
    /// <summary>The markdown page written in full mode; null = none.</summary>
    public string? ReportPath { get; init; }
    /// <summary>The `moe` entry point (moe.dll or an executable); null = moe.dll next to this program.</summary>
    public string? MoePath { get; init; }
    /// <summary>The command line that produced this run, quoted in the report.</summary>
    public string CommandLine { get; init; } = "";
    /// <summary>Free text printed under the title (e.g. which branches the build contained).</summary>
    public string? Note { get; init; }

    public int[] ExpertBatches => Small ? [1, 4] : [1, 8, 32, 128];
    /// <summary>Interleaved rounds per comparison: ratios stay valid on a loaded machine because both sides see the same load drift.</summary>
    public int Rounds => Small ? 1 : 2;
    /// <summary>Least windows per ONNX Runtime expert measurement and round.</summary>
    public int MinWindowsPerRound => Small ? 4 : 64;
    /// <summary>Least windows per TorchSharp measurement and round (it is several times slower; rates stay comparable).</summary>
    public int MinTorchWindowsPerRound => Small ? 1 : 16;
    /// <summary>Batch of the lever attempts (the batch 32 in full mode).</summary>
    public int LeverBatch => Small ? 4 : 32;
    /// <summary>Least windows per lever attempt and round (two rounds each).</summary>
    public int LeverWindowsPerRound => Small ? 4 : 32;
    public double DecodeSeconds => Small ? 6 : 60;
    /// <summary>Interleaved decode rounds (a 60 s file decodes in a fraction of a second, so more rounds cost little and steady the ratio).</summary>
    public int DecodeRounds => Small ? 1 : 5;
    public int RoutingMaxFiles => Small ? 2 : 200;
    /// <summary>Speech windows kept per dev file (the first; corpus clips are 5-15 s: 1-5 windows): keeps the loaded-machine run short.</summary>
    public int RoutingWindowsPerFile => Small ? 1 : 1;
    /// <summary>Rounds alternating all routing modes: the per-round cost ratio moved 47-59 % for sparse top-2 between runs of two
    /// rounds, so the page gives each ratio's range over the rounds as well.</summary>
    public int RoutingRounds => Small ? 1 : 4;
    public double EndToEndMinutes => Small ? 0.3 : 30;
    /// <summary>Scans of the folder per precision: one run's wall time moved 224x-259x (INT8) between whole benchmark runs, so the
    /// page gives the median of three and their range.</summary>
    public int EndToEndRounds => Small ? 1 : 3;
    public double LongFileHours => Small ? 0.01 : 2;
}
