using MoeFunctions.Detection;
using MoeFunctions.TestSupport;
using MoeFunctions.Training.Networks;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

/// <summary>
/// A bundle's ONNX experts as training inputs (<see cref="ExpertWeights"/>): read back into the LCNN they compute what the
/// file computes, their folded batch norms refit without changing that, and the shipped bundle can be extended by an
/// expert fine-tuned from one of its own experts without any checkpoint.
/// </summary>
[Collection(TinyCorpusCollection.Name)]
public class ExpertWeightsTests(TinyCorpus corpus, Xunit.Abstractions.ITestOutputHelper output)
{

    /// <summary>Log-mel batches of real speech windows from the tiny corpus, as training computes them.</summary>
    private Tensor[] Features(int batches, int batchSize = 8)
    {
        var sampler = new MoeFunctions.Training.Data.BalancedSampler(
            MoeFunctions.Training.Data.ClipStore.Load(corpus.Manifest, corpus.Manifest.Select(split: "train")));
        using var frontEnd = new TorchLogMel();
        return sampler.Epoch(seed: 7, epoch: 1, batchSize, batches).Select(b => frontEnd.Compute(tensor(b.Waves).reshape(batchSize, -1))).ToArray();
    }

    [Fact]
    public void A_shipped_expert_read_back_computes_what_its_file_computes()
    {
        var file = ShippedBundle.Expert("D2");
        using var model = ExpertWeights.Load(file);
        var x = Features(1)[0];
        var (p, e) = model.forward(x);
        var shape = x.shape.Select(d => (int)d).ToArray();
        var fromFile = ExportParityTests.RunOnnx(File.ReadAllBytes(file), ModelNames.ExpertInput, x.data<float>().ToArray(), shape);
        ExportParityTests.Close(fromFile[ModelNames.ExpertProbs], p.data<float>().ToArray());
        ExportParityTests.Close(fromFile[ModelNames.ExpertEmbedding], e.data<float>().ToArray());
        // Exported again, it is the same network (the batch norms fold back to the same scale and shift).
        var again = ExportParityTests.RunOnnx(Export.Expert(model), ModelNames.ExpertInput, x.data<float>().ToArray(), shape);
        ExportParityTests.Close(fromFile[ModelNames.ExpertProbs], again[ModelNames.ExpertProbs], 1e-5);
        ExportParityTests.Close(fromFile[ModelNames.ExpertEmbedding], again[ModelNames.ExpertEmbedding], 1e-5);
    }

    [Fact]
    public void Refitting_the_batch_norms_keeps_eval_mode_and_brings_training_mode_to_it()
    {
        var batches = Features(4);
        using var probe = cat(batches.Take(2).ToArray(), 0);
        // A forward pass in training mode also moves the running statistics, so each measurement gets its own copy.
        float[] Embedding(Lcnn m, bool training) { m.train(training); using var _ = no_grad(); return m.forward(probe).Embedding.data<float>().ToArray(); }
        static double Gap(float[] a, float[] b) => a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) / a.Max(v => Math.Abs(v));
        Lcnn Load() => ExpertWeights.Load(ShippedBundle.Expert("D1"));

        using var folded = Load();
        var evalBefore = Embedding(folded, training: false);
        double trainGapBefore = Gap(evalBefore, Embedding(folded, training: true));
        using var refit = Load();
        Assert.Equal(4 * 8, refit.RefitBatchNorms(batches));
        var evalAfter = Embedding(refit, training: false);
        double trainGapAfter = Gap(evalAfter, Embedding(refit, training: true));

        output.WriteLine($"training mode against eval mode, largest embedding difference / largest value: folded {trainGapBefore:P1}, refitted {trainGapAfter:P1}");
        ExportParityTests.Close(evalBefore, evalAfter, 1e-4 * evalBefore.Max(v => Math.Abs(v)));
        // Folded batch norms (mean 0, variance 1) normalise by the batch in training: far from the learned function.
        Assert.True(trainGapBefore > 0.3, $"before refit, training mode differs by only {trainGapBefore:P1}");
        Assert.True(trainGapAfter < trainGapBefore / 5, $"after refit, training mode still differs by {trainGapAfter:P1} (before {trainGapBefore:P1})");
    }

    [Fact]
    public void Expanding_a_bundle_folder_lists_its_experts_in_order_with_their_domains()
    {
        var files = ExpertWeights.Expand([ShippedBundle.Folder, ShippedBundle.Expert("D3")]);
        Assert.Equal(["D1", "D2", "D3", "D4", "D3"], files.Select(ExpertWeights.Domain));
        Assert.All(files, f => Assert.True(File.Exists(f)));
        Assert.Contains("LibriSpeech", string.Join(",", ExpertWeights.Sources(files[0])), StringComparison.OrdinalIgnoreCase);
        // An ONNX file outside a bundle has no recorded domain or sources; a broken one is refused with its name.
        var loose = Path.Combine(Directory.CreateTempSubdirectory("moe-loose-").FullName, "x.onnx");
        File.Copy(files[0], loose);
        Assert.Null(ExpertWeights.Domain(loose));
        Assert.Empty(ExpertWeights.Sources(loose));
        File.WriteAllBytes(loose, [1, 2, 3]);
        Assert.Contains(loose, Assert.Throws<InvalidDataException>(() => ExpertWeights.Load(loose)).Message);
        var gate = Path.Combine(ShippedBundle.Folder, "gate-classic.onnx");
        Assert.Contains("missing conv1.weight", Assert.Throws<InvalidDataException>(() => ExpertWeights.Load(gate)).Message);
        Directory.Delete(Path.GetDirectoryName(loose)!, true);
    }

    [Fact]
    public void The_shipped_bundle_gains_an_expert_fine_tuned_from_its_own_without_checkpoints()
    {
        var root = Directory.CreateTempSubdirectory("moe-add-expert-").FullName;
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            // The tiny corpus with its domain D2 renamed D5: a new kind of fake next to the bundle's D1-D4.
            Directory.CreateDirectory(Dir("corpus"));
            File.WriteAllLines(Path.Combine(Dir("corpus"), "manifest.csv"), File.ReadAllLines(Path.Combine(corpus.Root, "manifest.csv"))
                .Select((line, i) => i == 0 ? line : Path.Combine(corpus.Root, line.Split(',')[0]) + line[line.IndexOf(',')..].Replace(",D2,", ",D5,")));
            var log = new List<string>();
            TrainingOptions Options(string dir, string? init = null) => new()
                { OutDir = dir, Epochs = 1, BatchSize = 8, BatchesPerEpoch = 2, Seed = 3, InitWeights = init, Log = log.Add };

            var d5 = TrainingPipeline.TrainExpert(Dir("corpus"), "D5", Options(Dir("D5"), init: ShippedBundle.Expert("D1")));
            Assert.Contains(log, l => l.Contains($"batch norms refitted on {ExpertTrainer.RefitBatches * 8} training windows"));
            // Its record keeps what the starting weights saw besides the new data.
            var shippedSources = ModelBundle.Load(ShippedBundle.Folder).Manifest.Training!.Sources;
            var d5Sources = TrainingPipeline.ProvenanceSources(Dir("D5")).ToHashSet();
            Assert.Superset(shippedSources.Append("sox").ToHashSet(), d5Sources);
            Assert.Subset(shippedSources.Concat(["sox", "espeak-ng"]).ToHashSet(), d5Sources);

            var experts = ExpertWeights.Expand([ShippedBundle.Folder, Dir("D5")]);
            Assert.Equal(["D1", "D2", "D3", "D4", "D5"], experts.Select(ExpertWeights.Domain));
            TrainingPipeline.TrainGate(Dir("corpus"), GateKind.Classic, experts, Options(Dir("gate-classic")), cropsPerClip: 1);
            TrainingPipeline.TrainGate(Dir("corpus"), GateKind.Enhanced, experts, Options(Dir("gate-enhanced")), cropsPerClip: 1, routingLossWeight: 1);

            string[] domains = ["D1", "D2", "D3", "D4", "D5"];
            BundleBuilder.Build(new BundleRequest
            {
                OutDir = Dir("bundle"), Corpus = Dir("corpus"), Log = _ => { }, Version = "1.5.0-test",
                Experts = domains.Zip(experts).Select(p => new ExpertSource(p.First, p.Second)).ToList(),
                ClassicGate = Dir("gate-classic"), EnhancedGate = Dir("gate-enhanced"), Mode = RoutingMode.Dense, Gate = GateKind.Enhanced,
            });
            var bundle = ModelBundle.Load(Dir("bundle"));
            Assert.Equal(domains, bundle.Manifest.Experts.Select(e => e.Domain));
            // The shipped experts are copied byte for byte; the new one is exported from its run.
            var shipped = ModelBundle.Load(ShippedBundle.Folder).Manifest.Experts;
            Assert.Equal(shipped.Select(e => e.Sha256), bundle.Manifest.Experts.Take(4).Select(e => e.Sha256));
            Assert.Superset(shippedSources.ToHashSet(), bundle.Manifest.Training!.Sources.ToHashSet());

            // It scores: five experts under the new enhanced gate.
            using var scorer = new MoeScorer(bundle);
            var window = MoeFunctions.Training.Data.ClipStore.ReadWav(Path.Combine(corpus.Root, corpus.Manifest.Select(split: "dev").First().Path));
            var w = new float[ModelNames.WindowSamples];
            MoeFunctions.Training.Data.ClipStore.CropInto(window, 0, w);
            var score = scorer.Score([w]).Single();
            Assert.Equal(5, score.GateWeights.Length);
            Assert.InRange(score.GateWeights.Sum(), 0.999f, 1.001f);
        }
        finally { Directory.Delete(root, true); }
    }
}
