using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Training;
using MoeFunctions.Training.Data;

namespace MoeFunctions.Benchmarks;

/// <summary>
/// The INT8 lever of issue 7: the expert quantized by <see cref="ExpertQuantizer"/> (QDQ graph that ONNX Runtime fuses to
/// QLinearConv). Speed is a row of the levers table (<see cref="ExpertBench"/>); accuracy is measured here with the shipped
/// bundle on the corpus: each expert calibrated on TRAIN windows, scored on the DEV split, FP32 against INT8.
/// </summary>
public static class Int8Bench
{
    public const string Lever = "weights: INT8 (QDQ -> QLinearConv)";

    /// <summary>Interleaved rounds of the INT8 lever rows (the other levers run two).</summary>
    public const int SpeedRounds = 10;

    /// <summary>The verdict rule of the lever: at least this much faster than FP32 at batch 32 ...</summary>
    public const double KeepSpeedup = 1.3;
    /// <summary>... with no expert's own-domain DEV EER worse by more than this many points.</summary>
    public const double KeepEerPoints = 0.5;

    /// <summary>The weight formats tried; the first is the one recommended for AVX2 without VNNI (see <see cref="Int8Weights"/>).</summary>
    public static readonly Int8Weights[] Formats = [Int8Weights.U8S8ReducedRange, Int8Weights.U8S8, Int8Weights.U8U8];

    public static string Describe(Int8Weights format) => format switch
    {
        Int8Weights.U8S8ReducedRange => "U8S8, 7-bit weights (reduce_range)",
        Int8Weights.U8S8 => "U8S8, 8-bit weights",
        Int8Weights.U8U8 => "U8U8 (uint8 weights)",
        _ => format.ToString(),
    };

    /// <summary>Lever candidates: the expert in each format, calibrated on the benchmark's random features (speed does not depend on the values).</summary>
    internal static IEnumerable<(string Setting, byte[] Model)> LeverModels(IReadOnlyDictionary<string, NamedTensor> weights, float[] features, bool small)
    {
        const int length = ModelNames.Mels * ModelNames.Frames;
        var windows = Enumerable.Range(0, Math.Min(16, features.Length / length)).Select(i => features.AsSpan(i * length, length).ToArray()).ToList();
        foreach (var format in small ? Formats.Take(1) : Formats)
            yield return (Describe(format), ExpertQuantizer.Quantize(weights, windows, format));
    }

    /// <summary>Calibration windows per domain from the TRAIN split (half bona fide, half spoof, first speech window of each file).</summary>
    private static int CalibrationFilesPerDomain(BenchOptions o) => o.Small ? 2 : 12;
    /// <summary>DEV files per domain scored FP32 against INT8, and speech windows kept per file.</summary>
    private static int DevFilesPerDomain(BenchOptions o) => o.Small ? 2 : 300;
    private static int WindowsPerFile(BenchOptions o) => o.Small ? 1 : 2;

    public static void RunAccuracy(BenchOptions options, BenchReport report, TextWriter log)
    {
        var bundle = ModelBundle.Load(options.ModelDirectory ?? Path.Combine(AppContext.BaseDirectory, "models", "default"));
        var manifest = Path.Combine(options.CorpusDirectory, "manifest.csv");
        if (!File.Exists(manifest))
        {
            report.Int8Note = $"Accuracy skipped: no corpus manifest at {manifest} (give `--corpus DIR`).";
            log.WriteLine(report.Int8Note);
            return;
        }
        if (bundle.Manifest.Gates.Enhanced is null)
        {
            report.Int8Note = "Accuracy skipped: the bundle has no enhanced gate (the dense comparison needs every expert's output).";
            log.WriteLine(report.Int8Note);
            return;
        }
        var windowOptions = new WindowOptions(bundle.Manifest.WindowSamples, bundle.Manifest.DefaultHopSamples);
        // The calibration `moe quantize` uses (BundleQuantizer): the first speech window of TRAIN files, half bona fide.
        var corpus = CorpusManifest.Load(manifest);
        var calibrationFiles = BundleQuantizer.CalibrationFiles(corpus, CalibrationFilesPerDomain(options));
        var calibration = BundleQuantizer.CalibrationWindows(bundle, corpus, calibrationFiles);
        if (calibration.Count == 0)
        {
            report.Int8Note = $"Accuracy skipped: no speech windows in the TRAIN split of {manifest}.";
            log.WriteLine(report.Int8Note);
            return;
        }
        var dev = RoutingBench.DevFiles(options.CorpusDirectory, manifest, int.MaxValue)
            .GroupBy(f => f.Domain).SelectMany(g => g.Take(DevFilesPerDomain(options))).ToList();
        var windows = RoutingBench.SpeechWindows(dev.Select(f => f.Path), windowOptions, WindowsPerFile(options), out var failed);
        var samples = windows.Select(w => w.Samples).ToArray();

        var calibrationFeatures = BundleQuantizer.Features(bundle, calibration);
        var dense = new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced };
        using var fp32 = new MoeScorer(bundle, dense);
        var reference = fp32.Score(samples);
        var domains = bundle.Manifest.Experts.Select(e => e.Domain).ToList();

        foreach (var format in options.Small ? Formats.Take(1) : Formats)
        {
            // A copy of the bundle whose moe.json carries this format's calibration, scored as `moe scan --precision int8` does.
            var folder = Path.Combine(options.WorkDirectory, $"int8-bundle-{format}");
            var files = new[] { bundle.Manifest.Gates.Classic!.File, bundle.Manifest.Gates.Enhanced!.File }.Concat(bundle.Manifest.Experts.Select(e => e.File))
                .ToDictionary(f => f, f => File.ReadAllBytes(bundle.PathOf(f)));
            var calibrated = bundle.Manifest.Experts.Select(e => e with
            {
                Int8 = new ExpertInt8 { Weights = format, Ranges = ExpertQuantizer.Calibrate(ExpertQuantizer.ReadWeights(files[e.File]), calibrationFeatures) },
            }).ToList();
            BundleWriter.Write(folder, bundle.Manifest with { Experts = calibrated }, files);
            using var int8 = new MoeScorer(ModelBundle.Load(folder), dense with { Precision = ExpertPrecision.Int8 });
            var quantized = int8.Score(samples);

            var experts = new List<Int8ExpertRow>();
            for (var e = 0; e < domains.Count; e++)
            {
                var own = Enumerable.Range(0, windows.Count).Where(i => dev[windows[i].File].Domain == domains[e]).ToList();
                var expert = e;
                double OwnEer(IReadOnlyList<WindowScore> scores) => FileEer(own, windows, dev, i => 1 - scores[i].ExpertBonafide[expert]);
                experts.Add(new Int8ExpertRow(bundle.Manifest.Experts[e].Name, domains[e], own.Select(i => windows[i].File).Distinct().Count(), own.Count,
                    OwnEer(reference), OwnEer(quantized),
                    Enumerable.Range(0, samples.Length).Select(i => Math.Abs(reference[i].ExpertBonafide[expert] - quantized[i].ExpertBonafide[expert])).DefaultIfEmpty().Max()));
            }
            var all = Enumerable.Range(0, windows.Count).ToList();
            var result = new Int8Accuracy(Describe(format), experts,
                FileEer(all, windows, dev, i => reference[i].SpoofProbability), FileEer(all, windows, dev, i => quantized[i].SpoofProbability),
                windows.Select(w => w.File).Distinct().Count(), experts.Max(x => x.MaxBonafideDifference),
                Enumerable.Range(0, samples.Length).Select(i => Math.Abs(reference[i].FusedBonafide - quantized[i].FusedBonafide)).DefaultIfEmpty().Max());
            report.Int8.Add(result);
            foreach (var x in experts)
                log.WriteLine($"int8 {result.Format} {x.Expert}: own-domain dev EER {x.Fp32Eer:P2} -> {x.Int8Eer:P2} ({x.Files} files), max |dP(bona fide)| {x.MaxBonafideDifference:G3}");
            log.WriteLine($"int8 {result.Format} dense enhanced MoE: pooled dev EER {result.PooledFp32Eer:P2} -> {result.PooledInt8Eer:P2} ({result.PooledFiles} files)");
        }
        report.Int8Note = $"Bundle '{bundle.Manifest.Name}' {bundle.Manifest.Version} (trained: {bundle.Manifest.Trained.ToString().ToLowerInvariant()}). " +
                          $"Each expert calibrated (per-tensor min/max) on the same {calibration.Count} log-mel windows: the first speech window of " +
                          $"{calibrationFiles.Count} TRAIN files of {manifest} ({CalibrationFilesPerDomain(options)} per domain, half bona fide). " +
                          $"Scored: up to {DevFilesPerDomain(options)} DEV files per domain, up to {WindowsPerFile(options)} speech windows each " +
                          $"({windows.Count} windows, {failed} files failed to decode), dense mode with the enhanced gate, FP32 and INT8 on the same windows; " +
                          "file score = the scanner's top-third mean of window P(spoof).";
    }

    /// <summary>File-level EER over the windows <paramref name="subset"/>: each file's score is the scanner's aggregate of its windows' P(spoof).</summary>
    private static double FileEer(List<int> subset, List<(int File, float[] Samples)> windows, List<(string Path, bool Spoof, string Domain)> files, Func<int, double> spoof) =>
        Eer.Compute(subset.GroupBy(i => windows[i].File)
            .Select(g => (files[g.Key].Spoof, Score: FileAggregator.FileProbability(g.Select(spoof).ToList())))
            .ToList());
}
