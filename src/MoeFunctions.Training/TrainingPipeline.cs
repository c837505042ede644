using System.Security.Cryptography;
using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.Training.Data;
using MoeFunctions.Training.Networks;

namespace MoeFunctions.Training;

/// <summary>Corpus-level entry points behind `moe train` and `moe bundle`.</summary>
public static class TrainingPipeline
{
    /// <summary>Domain "all" (or null) pools every domain: the pretraining run whose best.pt seeds the per-domain experts (--init).</summary>
    /// <param name="maxTrainClipsPerClass">Train on at most this many clips per domain and class (<see cref="SubsetPerDomain"/>).</param>
    public static TrainingResult TrainExpert(string corpus, string? domain, TrainingOptions o, int? maxTrainClipsPerClass = null)
    {
        var manifest = CorpusManifest.Load(corpus);
        string? d = domain is null || domain.Equals("all", StringComparison.OrdinalIgnoreCase) ? null : domain;
        var trainEntries = manifest.Select(d, "train").ToList();
        if (trainEntries.Count == 0)
            throw new InvalidOperationException($"no train clips for domain '{domain}' in {manifest.Root} (domains: {string.Join(", ", manifest.Domains)})");
        o.Log($"decoding {trainEntries.Count} train clips of {domain ?? "all domains"} ...");
        var train = SubsetPerDomain(ClipStore.Load(manifest, trainEntries), maxTrainClipsPerClass);
        var dev = ClipStore.Load(manifest, manifest.Select(d, "dev"));
        Directory.CreateDirectory(o.OutDir);
        // Weights it starts from carry the sources they saw into this run's record (and so into a bundle's training.sources).
        var inherited = o.InitWeights is null ? [] : ExpertWeights.Sources(o.InitWeights);
        var recipe = Recipe(o);
        recipe["maxTrainClipsPerClass"] = maxTrainClipsPerClass;
        WriteProvenance(o.OutDir, manifest, trainEntries.Concat(manifest.Select(d, "dev")), domain ?? "all", recipe, inherited);
        return ExpertTrainer.Train(train, dev, o);
    }

    /// <param name="routingLossWeight">Weight of the loss that sends each window to its domain's expert (0: the reference's loss only).</param>
    /// <param name="trainExperts">Train copies of the experts with the gate, as the reference does (<see cref="JointMoeTrainer"/>);
    /// the crop cache and its settings are then unused.</param>
    public static TrainingResult TrainGate(string corpus, GateKind kind, IReadOnlyList<string> expertWeights, TrainingOptions o, int cropsPerClip = 2,
        int? maxTrainClipsPerClass = null, double routingLossWeight = 0, bool trainExperts = false)
    {
        var manifest = CorpusManifest.Load(corpus);
        var expertDomains = expertWeights.Select(ExpertWeights.Domain).ToList();
        if (trainExperts) return TrainJointly(manifest, kind, expertWeights, expertDomains, o, maxTrainClipsPerClass);
        var experts = expertWeights.Select(ExpertWeights.Load).ToList();
        try
        {
            o.Log($"decoding pooled train/dev clips and caching {experts.Count} frozen experts' outputs ...");
            var train = ClipStore.Load(manifest, manifest.Select(split: "train"));
            var dev = ClipStore.Load(manifest, manifest.Select(split: "dev"));
            var trainCache = GateTrainer.TrainCache(experts, SubsetPerDomain(train, maxTrainClipsPerClass), cropsPerClip, o.Seed, expertDomains);
            var devCache = GateTrainer.DevCache(experts, SubsetPerDomain(dev, o.MaxDevClipsPerClass), expertDomains);
            TorchSharp.torch.random.manual_seed(o.Seed);
            using TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> gate =
                kind == GateKind.Classic ? new ClassicGate(experts.Count) : new EnhancedGate(experts.Count);
            Directory.CreateDirectory(o.OutDir);
            var recipe = Recipe(o);
            recipe["gate"] = kind.ToString().ToLowerInvariant();
            recipe["cropsPerClip"] = cropsPerClip;
            recipe["maxTrainClipsPerClass"] = maxTrainClipsPerClass;
            recipe["routingLoss"] = routingLossWeight;
            WriteProvenance(o.OutDir, manifest, manifest.Select(split: "train").Concat(manifest.Select(split: "dev")), "all", recipe);
            File.WriteAllLines(Path.Combine(o.OutDir, "experts.txt"), expertWeights.Select(Path.GetFullPath));
            return GateTrainer.Train(gate, trainCache, devCache, o, routingLossWeight);
        }
        finally { experts.ForEach(e => e.Dispose()); }
    }

    private static TrainingResult TrainJointly(CorpusManifest manifest, GateKind kind, IReadOnlyList<string> expertWeights,
        IReadOnlyList<string?> expertDomains, TrainingOptions o, int? maxTrainClipsPerClass)
    {
        o.Log("decoding pooled train/dev clips ...");
        var train = SubsetPerDomain(ClipStore.Load(manifest, manifest.Select(split: "train")), maxTrainClipsPerClass);
        var dev = SubsetPerDomain(ClipStore.Load(manifest, manifest.Select(split: "dev")), o.MaxDevClipsPerClass);
        Directory.CreateDirectory(o.OutDir);
        var used = manifest.Select(split: "train").Concat(manifest.Select(split: "dev")).ToList();
        var recipe = Recipe(o);
        recipe["gate"] = kind.ToString().ToLowerInvariant();
        recipe["trainExperts"] = true;
        recipe["maxTrainClipsPerClass"] = maxTrainClipsPerClass;
        var inherited = expertWeights.SelectMany(ExpertWeights.Sources).ToList();
        WriteProvenance(o.OutDir, manifest, used, "all", recipe, inherited);
        File.WriteAllLines(Path.Combine(o.OutDir, "experts.txt"), expertWeights.Select(Path.GetFullPath));
        var result = JointMoeTrainer.Train(kind, expertWeights, expertDomains, train, dev, o);
        // Each part's folder says what it saw, as a run of its own would: every expert saw the pooled splits.
        for (int i = 0; i < expertDomains.Count; i++)
            WriteProvenance(JointMoeTrainer.ExpertDir(o.OutDir, expertDomains, i), manifest, used, expertDomains[i] ?? "all", recipe, inherited);
        WriteProvenance(JointMoeTrainer.GateDir(o.OutDir), manifest, used, "all", recipe, inherited);
        return result;
    }

    /// <summary>Caps clips per (domain, class), spread evenly over each group, so every domain stays represented.</summary>
    public static IReadOnlyList<Clip> SubsetPerDomain(IReadOnlyList<Clip> clips, int? perClass) =>
        perClass is not { } n ? clips : clips.GroupBy(c => (c.Entry.Domain, c.Spoof))
            .SelectMany(g => { var l = g.ToList(); return l.Count <= n ? l : Enumerable.Range(0, n).Select(i => l[i * l.Count / n]); }).ToList();

    /// <summary>The settings that decide what a run learns, so a run folder says how it was made (the command line is gone).</summary>
    private static Dictionary<string, object?> Recipe(TrainingOptions o) => new()
    {
        ["init"] = o.InitWeights is null ? null : Path.GetFullPath(o.InitWeights),
        ["epochs"] = o.Epochs, ["batchSize"] = o.BatchSize, ["batchesPerEpoch"] = o.BatchesPerEpoch, ["seed"] = o.Seed,
        ["learningRate"] = o.LearningRate, ["weightDecay"] = o.WeightDecay, ["patience"] = o.Patience,
        ["maxDevClipsPerClass"] = o.MaxDevClipsPerClass, ["ema"] = o.EmaDecay,
        ["balanceGenerators"] = o.BalanceGenerators, ["augment"] = o.Augment,
    };

    /// <summary>
    /// provenance.json: the corpus sources and licences a run saw (data-licence bookkeeping for the bundle) and its
    /// recipe. A resumed run rewrites it with the settings it resumed with.
    /// </summary>
    private static void WriteProvenance(string dir, CorpusManifest manifest, IEnumerable<CorpusEntry> used, string domain,
        Dictionary<string, object?> recipe, IReadOnlyList<string>? inheritedSources = null)
    {
        var list = used.ToList();
        var manifestPath = Path.Combine(manifest.Root, "manifest.csv");
        var provenance = new
        {
            corpus = manifest.Root,
            manifestSha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(manifestPath))),
            domain,
            sources = list.Select(e => e.Source).Concat(inheritedSources ?? []).Distinct().Order().ToList(),
            licenses = list.Select(e => e.License).Distinct().Order().ToList(),
            clips = list.Count,
            recipe,
        };
        File.WriteAllText(Path.Combine(dir, "provenance.json"), JsonSerializer.Serialize(provenance, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The domain an expert run trained on (provenance.json "domain"); null when unknown or pooled ("all").</summary>
    public static string? ProvenanceDomain(string runDir)
    {
        var path = Path.Combine(runDir, "provenance.json");
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var domain = doc.RootElement.TryGetProperty("domain", out var d) ? d.GetString() : null;
        return domain is null || domain.Equals("all", StringComparison.OrdinalIgnoreCase) ? null : domain;
    }

    public static IReadOnlyList<string> ProvenanceSources(string runDir)
    {
        var path = Path.Combine(runDir, "provenance.json");
        if (!File.Exists(path)) return [];
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("sources").EnumerateArray().Select(e => e.GetString()!).ToList();
    }
}
