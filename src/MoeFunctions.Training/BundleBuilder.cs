using System.Security.Cryptography;
using MoeFunctions.Detection;
using MoeFunctions.Training.Data;
using MoeFunctions.Training.Networks;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>One expert of a bundle: its domain and the run folder, .pt file or ONNX expert file holding its weights.</summary>
public sealed record ExpertSource(string Domain, string Weights);

public sealed record BundleRequest
{
    public required string OutDir { get; init; }
    public required string Corpus { get; init; }
    public required IReadOnlyList<ExpertSource> Experts { get; init; }
    public required string ClassicGate { get; init; }
    public string? EnhancedGate { get; init; }
    public string Name { get; init; } = "moe-default";
    public string Version { get; init; } = "1.0.0";
    public int TopK { get; init; } = 2;
    /// <summary>The routing scanners use by default; the calibration is fitted under exactly this routing.</summary>
    public RoutingMode Mode { get; init; } = RoutingMode.Sparse;
    /// <summary>Gate of the default routing; Enhanced needs every expert's embedding, so only with Dense.</summary>
    public GateKind Gate { get; init; } = GateKind.Classic;
    public Action<string> Log { get; init; } = Console.WriteLine;
}

/// <summary>
/// `moe bundle`: exports the experts and gates to ONNX, fits the logistic calibration on the pooled dev splits
/// (under the bundle's default routing, middle window per file), and writes moe.json with SHA-256s and the corpus
/// sources the weights saw.
/// </summary>
public static class BundleBuilder
{
    /// <summary>A run folder means its best.pt; a file is taken as is.</summary>
    public static string WeightsFile(string path) => Directory.Exists(path) ? Path.Combine(path, Checkpoints.BestWeights) : path;

    public static BundleManifest Build(BundleRequest r)
    {
        if (r.Gate == GateKind.Enhanced && (r.Mode != RoutingMode.Dense || r.EnhancedGate is null))
            throw new ArgumentException("the enhanced gate routes dense mode only and needs --enhanced-gate");
        Directory.CreateDirectory(r.OutDir);
        var files = r.Experts.Select(e => WeightsFile(e.Weights)).ToList();
        var experts = files.Select(ExpertWeights.Load).ToList();
        try
        {
            var entries = new List<ExpertEntry>();
            for (int i = 0; i < experts.Count; i++)
            {
                var file = $"expert-{r.Experts[i].Domain}.onnx";
                // An ONNX expert (another bundle's) is copied byte for byte, so its SHA-256 and scores stay what they were.
                if (ExpertWeights.IsOnnx(files[i])) CopyUnlessSame(files[i], Path.Combine(r.OutDir, file));
                else File.WriteAllBytes(Path.Combine(r.OutDir, file), Export.Expert(experts[i]));
                entries.Add(new ExpertEntry { Name = $"expert-{r.Experts[i].Domain}", Domain = r.Experts[i].Domain, File = file, Sha256 = "" });
            }
            using var classic = new ClassicGate(experts.Count);
            classic.load(WeightsFile(r.ClassicGate));
            classic.eval();
            File.WriteAllBytes(Path.Combine(r.OutDir, "gate-classic.onnx"), Export.ClassicGate(classic));
            GateFile? enhancedFile = null;
            using var enhanced = r.EnhancedGate is null ? null : new EnhancedGate(experts.Count);
            if (enhanced is not null)
            {
                enhanced.load(WeightsFile(r.EnhancedGate!));
                enhanced.eval();
                File.WriteAllBytes(Path.Combine(r.OutDir, "gate-enhanced.onnx"), Export.EnhancedGate(enhanced));
                enhancedFile = new GateFile { File = "gate-enhanced.onnx", Sha256 = "" };
            }

            var manifest = CorpusManifest.Load(r.Corpus);
            var dev = ClipStore.Load(manifest, manifest.Select(split: "dev"));
            var cache = GateTrainer.DevCache(experts, dev, r.Experts.Select(e => (string?)e.Domain).ToList());
            double[] fused = r.Mode == RoutingMode.Dense
                ? GateTrainer.MixtureSpoof(r.Gate == GateKind.Enhanced ? enhanced! : classic, cache).Select(v => (double)v).ToArray()
                : SparseFusion(classic, cache, r.TopK); // sparse, and cascade (which starts from the top-k fusion)
            var (a, b) = LogisticCalibration.Fit(fused, cache.Spoof);
            r.Log($"calibration on {dev.Count} dev clips ({r.Mode}, {r.Gate} gate): a = {a:F4}, b = {b:F4}");

            var sources = files.SelectMany(ExpertWeights.Sources)
                .Concat(TrainingPipeline.ProvenanceSources(Path.GetDirectoryName(WeightsFile(r.ClassicGate))!)).Distinct().Order().ToList();
            var bundle = new BundleManifest
            {
                Name = r.Name,
                Version = r.Version,
                Trained = true,
                Description = $"Mixture of {experts.Count} LCNN experts ({string.Join(", ", r.Experts.Select(e => e.Domain))}) with classic{(enhancedFile is null ? "" : " and enhanced")} gate.",
                Experts = entries,
                Gates = new GateFiles { Classic = new GateFile { File = "gate-classic.onnx", Sha256 = "" }, Enhanced = enhancedFile },
                Routing = new RoutingDefaults { Mode = r.Mode, TopK = Math.Min(r.TopK, experts.Count), Gate = r.Gate },
                Calibration = new Calibration { A = a, B = b },
                Training = new TrainingProvenance
                {
                    Sources = sources,
                    Corpus = $"{manifest.Root} (manifest.csv SHA-256 {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(manifest.Root, "manifest.csv"))))})",
                    Notes = "Experts trained per domain (see each run's state.json); gates trained on the pooled train splits with the experts frozen; calibration fitted on the pooled dev splits.",
                },
            };
            return BundleWriter.WriteManifest(r.OutDir, bundle); // fills in every SHA-256 from disk
        }
        finally { experts.ForEach(e => e.Dispose()); }
    }

    private static void CopyUnlessSame(string from, string to)
    {
        if (!string.Equals(Path.GetFullPath(from), Path.GetFullPath(to), StringComparison.Ordinal)) File.Copy(from, to, overwrite: true);
    }

    /// <summary>Renormalised top-k gate-weighted P(spoof), as the scanner's sparse routing fuses it.</summary>
    public static double[] SparseFusion(ClassicGate gate, GateTrainer.Cache cache, int topK) =>
        GateTrainer.Weights(gate, cache).Select((w, i) => TopKFusion(w, e => cache.SpoofProbs[i][e], topK)).ToArray();

    /// <summary>The k largest gate weights, renormalised, times each of those experts' P(spoof).</summary>
    internal static double TopKFusion(float[] weights, Func<int, double> spoof, int k)
    {
        var top = Enumerable.Range(0, weights.Length).OrderByDescending(j => weights[j]).Take(k).ToArray();
        double sum = top.Sum(j => (double)weights[j]);
        return top.Sum(j => weights[j] * spoof(j)) / sum;
    }
}
