using Microsoft.ML.OnnxRuntime;
using MoeFunctions.Detection;

namespace MoeFunctions.Benchmarks;

/// <summary>One LCNN with one set of weights, in ONNX Runtime (the scanner's path) and in TorchSharp eager, batch by batch, interleaved.</summary>
public static class ExpertBench
{
    private const int FeatureLength = ModelNames.Mels * ModelNames.Frames;

    public static void Run(BenchOptions options, BenchReport report, TextWriter log)
    {
        // PyTorch-default initialisation: the speed of a convolution does not depend on the weights' values.
        var weights = UntrainedBundle.Init(ModelNames.ExpertShapes(), new Random(7));
        var model = OnnxGraphWriter.WriteExpert(weights);
        var maxBatch = options.ExpertBatches.Max();
        var features = RandomFeatures(maxBatch, new Random(11));

        if (options.LeversOnly)
        {
            RunLevers(options, report, log, weights, model, features);
            Int8Bench.RunAccuracy(options, report, log); // the INT8 lever's verdict needs its accuracy change
            return;
        }
        using var ort = new OrtExpert(model, ScannerSettings());
        ITorchExpert? torch = null;
        try
        {
            torch = TorchExpertFactory.Create(weights, out var reason);
            report.TorchNote = torch is null ? $"TorchSharp: not available in this build ({reason})." : $"TorchSharp: {torch.Description}.";
            foreach (var batch in options.ExpertBatches)
            {
                var o = new Throughput();
                var t = new Throughput();
                var iterations = Math.Max(1, options.MinWindowsPerRound / batch);
                var torchIterations = Math.Max(1, options.MinTorchWindowsPerRound / batch);
                ort.Run(features, batch); // warm-up: first runs allocate and plan
                torch?.Run(features, batch);
                for (var round = 0; round < options.Rounds; round++)
                {
                    o.Time(() => Repeat(iterations, () => ort.Run(features, batch)) * batch);
                    if (torch is not null) t.Time(() => Repeat(torchIterations, () => torch.Run(features, batch)) * batch);
                }
                var gflops = o.PerSecond * LcnnCost.GflopPerWindow;
                var perCpu = o.PerCpuSecond * LcnnCost.GflopPerWindow;
                var corePeak = report.Machine.PeakGflops / report.Machine.Cores;
                var row = new ExpertRow(batch, o.PerSecond, torch is null ? null : t.PerSecond, gflops,
                    report.Machine.PeakGflops > 0 ? gflops / report.Machine.PeakGflops : 0, perCpu, corePeak > 0 ? perCpu / corePeak : 0);
                report.Expert.Add(row);
                log.WriteLine($"expert batch {batch}: ORT {row.OrtWindowsPerSecond:F1} w/s, TorchSharp {row.TorchWindowsPerSecond?.ToString("F1") ?? "n/a"} w/s");
            }
        }
        finally { torch?.Dispose(); }

        RunLevers(options, report, log, weights, model, features);
        Int8Bench.RunAccuracy(options, report, log);
    }

    /// <summary>What MoeScorer uses (<see cref="MoeScorer.CpuSessionOptions"/>: every graph optimisation, no memory pattern, no spinning
    /// threads); its shared arena and runs of ExpertBatch windows only change memory (the "expert batch" lever measures what the runs cost).</summary>
    internal static SessionOptions ScannerSettings() => MoeScorer.CpuSessionOptions(new ScorerOptions());

    /// <summary>The scanner's settings with one lever changed.</summary>
    private static SessionOptions Scanner(Action<SessionOptions> change)
    {
        var s = ScannerSettings();
        change(s);
        return s;
    }

    private static void RunLevers(BenchOptions options, BenchReport report, TextWriter log, IReadOnlyDictionary<string, NamedTensor> weights, byte[] model, float[] features)
    {
        var batch = options.LeverBatch;
        var cores = Environment.ProcessorCount;
        // Split > 0: the candidate feeds the same windows in runs of that many (MoeScorer's ExpertBatch), the memory lever.
        // Model: another graph of the same weights run with the scanner's settings (null: the FP32 graph).
        var attempts = new List<(string Lever, string Setting, Func<SessionOptions> Make, int Split, byte[]? Model)>
        {
            ("graph optimisation", "ORT_DISABLE_ALL", () => Scanner(s => s.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL), 0, null),
            ("graph optimisation", "ORT_ENABLE_BASIC", () => Scanner(s => s.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC), 0, null),
            ("graph optimisation", "ORT_ENABLE_EXTENDED", () => Scanner(s => s.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED), 0, null),
            ("intra-op threads", "1", () => Scanner(s => s.IntraOpNumThreads = 1), 0, null),
            ("intra-op threads", $"{cores} (= cores)", () => Scanner(s => s.IntraOpNumThreads = cores), 0, null),
            // The scanner turns spinning off (MoeScorer.CpuSessionOptions); this row measures ORT's default against it for one
            // session alone. In the scorer several sessions take turns, which is where spinning costs (section 2).
            ("intra-op threads", "default + spinning (ORT's default)", () => MoeScorer.CpuSessionOptions(new ScorerOptions { SpinningThreads = true }), 0, null),
            ("inter-op", $"ORT_PARALLEL, {cores} inter-op threads", () => Scanner(s =>
            {
                s.ExecutionMode = ExecutionMode.ORT_PARALLEL;
                s.InterOpNumThreads = cores;
            }), 0, null),
            // Split > 0: the same windows in session runs of that many (MoeScorer's ExpertBatch). Smallest first: the small
            // mode (batch 4) keeps only the first attempt of each lever, and it must still split.
            ("expert batch (memory)", "runs of 1 window", ScannerSettings, 1, null),
            ("expert batch (memory)", $"runs of {MoeScorer.DefaultExpertBatch} windows (the scanner's)", ScannerSettings, MoeScorer.DefaultExpertBatch, null),
            ("expert batch (memory)", $"runs of {2 * MoeScorer.DefaultExpertBatch} windows", ScannerSettings, 2 * MoeScorer.DefaultExpertBatch, null),
            ("CPU arena (memory)", "off", () => Scanner(s => s.EnableCpuMemArena = false), 0, null),
            ("memory pattern (memory)", "on (the scanner's is off)", () => Scanner(s => s.EnableMemoryPattern = true), 0, null),
        };
        attempts.Add(("MFM form (graph)", "Split + Max, the expert graph before 2026-11-26 (the scanner's: b + Relu(a - b))", ScannerSettings, 0,
            OnnxGraphWriter.WriteExpert(weights, MfmForm.SplitMax)));
        foreach (var (setting, quantized) in Int8Bench.LeverModels(weights, features, options.Small))
            attempts.Add((Int8Bench.Lever, setting, ScannerSettings, 0, quantized));
        if (options.Small) attempts = attempts.GroupBy(a => a.Lever).Select(g => g.First()).ToList();
        using var baseline = new OrtExpert(model, ScannerSettings());
        baseline.Run(features, batch);
        foreach (var (lever, setting, make, split, candidateModel) in attempts)
        {
            using var candidate = new OrtExpert(candidateModel ?? model, make());
            var runs = split > 0 ? Math.Min(split, batch) : batch;
            candidate.Run(features, batch, runs);
            var b = new Throughput();
            var c = new Throughput();
            var iterations = Math.Max(1, options.LeverWindowsPerRound / batch);
            // A lever with a verdict threshold (INT8: 1.3x) gets more rounds: on the shared machine two rounds scatter by +-30 %.
            var rounds = candidateModel is null || options.Small ? 2 : Int8Bench.SpeedRounds;
            var perRound = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var (bs, cs) = (b.Seconds, c.Seconds);
                b.Time(() => Repeat(iterations, () => baseline.Run(features, batch)) * batch);
                c.Time(() => Repeat(iterations, () => candidate.Run(features, batch, runs)) * batch);
                perRound.Add((b.Seconds - bs) / (c.Seconds - cs));
            }
            var row = new LeverRow(lever, $"{setting}, batch {batch}", c.PerSecond, b.PerSecond);
            report.Levers.Add(row);
            perRound.Sort();
            log.WriteLine($"lever {lever} {setting}: {row.Relative:F2}x of the scanner's settings ({rounds} rounds: min {perRound[0]:F2}x, " +
                          $"median {perRound[perRound.Count / 2]:F2}x, max {perRound[^1]:F2}x)");
        }
    }

    internal static int Repeat(int times, Action action)
    {
        for (var i = 0; i < times; i++) action();
        return times;
    }

    /// <summary>Log-mel-like values (mean-normalised: zero-centred, unit-ish spread).</summary>
    internal static float[] RandomFeatures(int windows, Random rng)
    {
        var data = new float[windows * FeatureLength];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 4 - 2);
        return data;
    }

    /// <summary>An expert session fed straight from a feature buffer, as MoeScorer feeds it.</summary>
    private sealed class OrtExpert(byte[] model, SessionOptions options) : IDisposable
    {
        private static readonly string[] Outputs = [ModelNames.ExpertProbs, ModelNames.ExpertEmbedding];
        private readonly InferenceSession _session = new(model, options);
        private readonly RunOptions _run = new();

        public void Run(float[] features, int batch) => Run(features, batch, batch);

        /// <summary>Scores windows 0..batch-1 in session runs of at most <paramref name="perRun"/> windows.</summary>
        public void Run(float[] features, int batch, int perRun)
        {
            for (var start = 0; start < batch; start += perRun)
            {
                var n = Math.Min(perRun, batch - start);
                using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features.AsMemory(start * FeatureLength, n * FeatureLength),
                    [n, 1, ModelNames.Mels, ModelNames.Frames]);
                using var outputs = _session.Run(_run, [ModelNames.ExpertInput], [value], Outputs);
                if (outputs[0].GetTensorDataAsSpan<float>().Length != n * 2) throw new InvalidOperationException("expert returned the wrong shape");
            }
        }

        public void Dispose()
        {
            _session.Dispose();
            _run.Dispose();
            options.Dispose();
        }
    }
}

/// <summary>The TorchSharp side of the expert comparison.</summary>
public interface ITorchExpert : IDisposable
{
    string Description { get; }
    void Run(float[] features, int batch);
}
