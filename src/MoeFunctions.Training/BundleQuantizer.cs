using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Training.Data;

namespace MoeFunctions.Training;

/// <summary>What `moe quantize` did: the manifest it wrote, the calibration files and, on those windows, how far INT8 moved each expert.</summary>
public sealed record QuantizeResult(BundleManifest Manifest, int Files, int Windows, IReadOnlyList<(string Expert, double MaxBonafideChange)> Changes);

/// <summary>
/// `moe quantize`: calibrates every expert of a bundle for INT8 (<see cref="ExpertQuantizer.Calibrate"/>: per-tensor min/max of
/// every conv's input and output) on TRAIN windows of a corpus, and writes the ranges into moe.json (experts[].int8). The ONNX
/// files stay FP32; the scorer writes the INT8 graph at load when asked for <see cref="ExpertPrecision.Int8"/>, so the bundle
/// does not grow. Never dev or test windows: they are what the accuracy change is measured on.
/// </summary>
public static class BundleQuantizer
{
    /// <summary>TRAIN files per domain; their first speech windows calibrate. 12 (6 bona fide, 6 spoof) is what
    /// docs/benchmarks.md "INT8 weights" measured with.</summary>
    public const int DefaultFilesPerDomain = 12;

    public static QuantizeResult Quantize(string bundleDir, string manifestPath, int filesPerDomain = DefaultFilesPerDomain,
        Int8Weights format = Int8Weights.U8S8ReducedRange, string? version = null, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        if (filesPerDomain < 1) throw new ArgumentOutOfRangeException(nameof(filesPerDomain), "at least one file per domain");
        var bundle = ModelBundle.Load(bundleDir);
        var corpus = CorpusManifest.Load(manifestPath);
        var entries = CalibrationFiles(corpus, filesPerDomain);
        if (entries.Count == 0) throw new InvalidOperationException($"no 'train' files in {corpus.Root}: INT8 calibration uses TRAIN windows only");
        var windows = CalibrationWindows(bundle, corpus, entries);
        if (windows.Count == 0) throw new InvalidOperationException($"none of the {entries.Count} calibration files has a speech window");
        log($"calibrating {bundle.ExpertCount} experts on {windows.Count} windows (first speech window of {entries.Count} TRAIN files, {filesPerDomain} per domain)");

        var features = Features(bundle, windows);
        var provenance = $"first speech window of {entries.Count} TRAIN files ({filesPerDomain} per domain, half bona fide) of {Path.GetFullPath(manifestPath)}";
        var experts = bundle.Manifest.Experts.Select(x => x with
        {
            Int8 = new ExpertInt8
            {
                Weights = format,
                Ranges = ExpertQuantizer.Calibrate(ExpertQuantizer.ReadWeights(File.ReadAllBytes(bundle.PathOf(x.File))), features),
                Calibration = provenance,
            },
        }).ToList();
        var written = BundleWriter.WriteManifest(bundle.Directory, bundle.Manifest with { Experts = experts, Version = version ?? bundle.Manifest.Version });

        // The check a user needs before trusting the ranges: INT8 against FP32 on the calibration windows, per expert.
        var quantized = ModelBundle.Load(bundle.Directory);
        using var fp32 = new MoeScorer(quantized, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Classic });
        using var int8 = new MoeScorer(quantized, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Classic, Precision = ExpertPrecision.Int8 });
        var (a, b) = (fp32.Score(windows), int8.Score(windows));
        var changes = Enumerable.Range(0, quantized.ExpertCount)
            .Select(e => (quantized.Manifest.Experts[e].Name, (double)Enumerable.Range(0, windows.Count).Max(i => Math.Abs(a[i].ExpertBonafide[e] - b[i].ExpertBonafide[e]))))
            .ToList();
        foreach (var (name, change) in changes) log($"{name}: largest |P(bona fide) INT8 - FP32| on the calibration windows {change:G3}");
        return new QuantizeResult(written, entries.Count, windows.Count, changes);
    }

    /// <summary>Per domain, in manifest order, the first ceil(n/2) bona fide and floor(n/2) spoof TRAIN files.</summary>
    public static IReadOnlyList<CorpusEntry> CalibrationFiles(CorpusManifest corpus, int filesPerDomain) =>
        corpus.Select(split: "train").GroupBy(e => e.Domain)
            .SelectMany(g => g.Where(e => !e.Spoof).Take((filesPerDomain + 1) / 2).Concat(g.Where(e => e.Spoof).Take(filesPerDomain / 2)))
            .ToList();

    /// <summary>Each file's first speech window as `moe scan` cuts it (the scanner's decoder, windower and speech detector, so
    /// any format it reads works); a file without one, or one that does not decode, gives none.</summary>
    public static List<float[]> CalibrationWindows(ModelBundle bundle, CorpusManifest corpus, IReadOnlyList<CorpusEntry> entries)
    {
        var options = new WindowOptions(bundle.Manifest.WindowSamples, bundle.Manifest.DefaultHopSamples);
        var windows = new List<float[]>();
        foreach (var entry in entries)
        {
            try
            {
                using var source = MediaDecoder.OpenFile(corpus.FullPath(entry));
                if (Windower.Split(source, options).FirstOrDefault(w => w.IsSpeech) is { } first) windows.Add(first.Samples);
            }
            catch (MediaDecodeException) { }
        }
        return windows;
    }

    /// <summary>The experts' input for each window: the scanner's log-mel front end.</summary>
    public static List<float[]> Features(ModelBundle bundle, IEnumerable<float[]> windows)
    {
        var frontEnd = new LogMelFrontEnd(bundle.Manifest.FrontEnd);
        return windows.Select(w =>
        {
            var f = new float[frontEnd.OutputLength];
            frontEnd.Compute(w, f);
            return f;
        }).ToList();
    }
}
