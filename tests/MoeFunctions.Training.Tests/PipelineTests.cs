using MoeFunctions.TestSupport;
using MoeFunctions.Detection;

namespace MoeFunctions.Training.Tests;

/// <summary>The `moe train expert` / `train gate` / `bundle` path end to end on the tiny corpus: the bundle it writes loads and verifies.</summary>
[Collection(TinyCorpusCollection.Name)]
public class PipelineTests(TinyCorpus corpus)
{
    private static TrainingOptions Options(string dir, string? init = null) => new()
    {
        OutDir = dir, Epochs = 1, BatchSize = 8, BatchesPerEpoch = 2, Seed = 3, InitWeights = init, Log = _ => { },
    };

    [Fact]
    public void APooledExpertRunCanCapItsClipsPerDomainAndClass()
    {
        var dir = Directory.CreateTempSubdirectory("moe-pooled-cap-").FullName;
        try
        {
            var log = new List<string>();
            TrainingPipeline.TrainExpert(corpus.Root, "all", Options(dir) with { Log = log.Add }, maxTrainClipsPerClass: 2);
            // Two domains x two classes x 2 clips, out of the tiny corpus's 36 train clips.
            Assert.Contains(log, line => line.StartsWith("expert: 8 train clips,", StringComparison.Ordinal));
            using var provenance = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "provenance.json")));
            Assert.Equal(2, provenance.RootElement.GetProperty("recipe").GetProperty("maxTrainClipsPerClass").GetInt32());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ExpertsGatesAndBundleMakeAVerifiedBundle()
    {
        var root = Directory.CreateTempSubdirectory("moe-pipeline-").FullName;
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            var d1 = TrainingPipeline.TrainExpert(corpus.Root, "D1", Options(Dir("D1")));
            var d2 = TrainingPipeline.TrainExpert(corpus.Root, "D2", Options(Dir("D2"), init: d1.BestWeights));
            Assert.True(File.Exists(d2.BestWeights));
            var experts = new[] { d1.BestWeights, d2.BestWeights };
            var classic = TrainingPipeline.TrainGate(corpus.Root, GateKind.Classic, experts, Options(Dir("gate-classic")), cropsPerClip: 1);
            // The routing loss finds each expert's domain in its run's provenance.json.
            Assert.Equal(["D1", "D2"], new[] { Dir("D1"), Dir("D2") }.Select(TrainingPipeline.ProvenanceDomain));
            // Each run folder says how it was made.
            using (var provenance = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir("D2"), "provenance.json"))))
            {
                var recipe = provenance.RootElement.GetProperty("recipe");
                Assert.Equal(Path.GetFullPath(d1.BestWeights), recipe.GetProperty("init").GetString());
                Assert.Equal((3, 8, 2), (recipe.GetProperty("seed").GetInt32(), recipe.GetProperty("batchSize").GetInt32(), recipe.GetProperty("batchesPerEpoch").GetInt32()));
                Assert.False(recipe.GetProperty("augment").GetBoolean());
            }
            var enhanced = TrainingPipeline.TrainGate(corpus.Root, GateKind.Enhanced, experts, Options(Dir("gate-enhanced")), cropsPerClip: 1, routingLossWeight: 1);
            Assert.Equal(1, classic.State.EpochsDone);
            Assert.Equal("gate-enhanced", enhanced.State.Kind);
            using (var provenance = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir("gate-enhanced"), "provenance.json"))))
            {
                var recipe = provenance.RootElement.GetProperty("recipe");
                Assert.Equal(("enhanced", 1.0), (recipe.GetProperty("gate").GetString(), recipe.GetProperty("routingLoss").GetDouble()));
            }

            BundleBuilder.Build(new BundleRequest
            {
                OutDir = Dir("bundle"), Corpus = corpus.Root, Log = _ => { },
                Experts = [new ExpertSource("D1", Dir("D1")), new ExpertSource("D2", Dir("D2"))],
                ClassicGate = Dir("gate-classic"), EnhancedGate = Dir("gate-enhanced"),
            });
            var bundle = ModelBundle.Load(Dir("bundle"));
            Assert.True(bundle.Manifest.Trained);
            Assert.Equal(["D1", "D2"], bundle.Manifest.Experts.Select(e => e.Domain));
            Assert.NotNull(bundle.Manifest.Gates.Enhanced);
            Assert.True(double.IsFinite(bundle.Manifest.Calibration.A) && double.IsFinite(bundle.Manifest.Calibration.B));
            Assert.Equal(["espeak-ng", "sox"], bundle.Manifest.Training!.Sources);

            // A bundle whose default routing is dense over the enhanced gate: written to moe.json, calibration fitted under it.
            var request = new BundleRequest
            {
                OutDir = Dir("bundle-enhanced"), Corpus = corpus.Root, Log = _ => { },
                Experts = [new ExpertSource("D1", Dir("D1")), new ExpertSource("D2", Dir("D2"))],
                ClassicGate = Dir("gate-classic"), EnhancedGate = Dir("gate-enhanced"), Mode = RoutingMode.Dense, Gate = GateKind.Enhanced,
            };
            BundleBuilder.Build(request);
            var dense = ModelBundle.Load(Dir("bundle-enhanced")).Manifest;
            Assert.Equal((RoutingMode.Dense, GateKind.Enhanced), (dense.Routing.Mode, dense.Routing.Gate));
            Assert.NotEqual(bundle.Manifest.Calibration, dense.Calibration);
            Assert.Throws<ArgumentException>(() => BundleBuilder.Build(request with { OutDir = Dir("bad"), Mode = RoutingMode.Sparse }));

            // moe eval on the dev split (the tiny corpus has no test split): every system, both scorings, per domain and pooled.
            var report = MoeFunctions.Training.Evaluation.Evaluator.Evaluate(Dir("bundle"), corpus.Root, "dev", bootstrap: 50, log: _ => { });
            string[] systems = ["expert expert-D1", "expert expert-D2", "uniform ensemble", "classic MoE sparse top-1", "classic MoE sparse top-2",
                "classic MoE dense", "classic MoE cascade", "enhanced MoE top-1 fusion", "enhanced MoE top-2 fusion", "enhanced MoE dense",
                "enhanced MoE cascade fusion"];
            Assert.Equal(systems.Order(), report.Rows.Select(r => r.System).Distinct().Order());
            Assert.Equal(systems.Length * 2 * 3, report.Rows.Count); // 2 scorings x (D1, D2, pooled)
            Assert.All(report.Rows, r => { Assert.InRange(r.Eer, 0, 1); Assert.InRange(r.MinDcf, 0, double.MaxValue); });
            Assert.All(report.Rows.Where(r => r.Domain == "pooled"), r => Assert.Equal(12, r.Files));
            // Where each gate sends each domain's windows.
            Assert.Equal([("classic", "D1"), ("classic", "D2"), ("enhanced", "D1"), ("enhanced", "D2")],
                report.Routing!.Select(r => (r.Gate, r.Domain)).Order());
            Assert.All(report.Routing!, r => { Assert.True(r.Windows > 0); Assert.InRange(r.TopWeightOnOwn, 0, 1); Assert.InRange(r.MeanWeightOnOwn, 0, 1); });
            var md = MoeFunctions.Training.Evaluation.Evaluator.Markdown(report);
            Assert.Contains("## Routing", md);
            Assert.Contains("## whole file", md);
            Assert.Contains("## middle window", md);

            // Per generator and per bona fide source: the default routing over both domains, each expert on its own domain.
            var defaultSystem = MoeFunctions.Training.Evaluation.Evaluator.DefaultSystem(bundle.Manifest.Routing)!;
            Assert.NotNull(report.Groups);
            Assert.Equal([("D1", "bonafide", "espeak-ng"), ("D1", "spoof", "sox-pitch-lowpass"), ("D2", "bonafide", "espeak-ng"), ("D2", "spoof", "sox-pitch-lowpass")],
                report.Groups.Where(g => g.System == defaultSystem).Select(g => (g.Domain, g.Class, g.Group)).Order());
            Assert.Equal([("expert expert-D1", "D1"), ("expert expert-D2", "D2")],
                report.Groups.Where(g => g.System != defaultSystem).Select(g => (g.System, g.Domain)).Distinct().Order());
            Assert.All(report.Groups, g => { Assert.Equal(3, g.Files); Assert.Equal(3, g.Against); Assert.InRange(g.Eer, 0, 1); });
            Assert.Contains("## By generator and by bona fide source", md);

            // Whole-file scoring cuts windows as `moe scan` does: a silent file has no speech window, so (like the scanner's
            // NotApplicable) it has no whole-file score, while the reference's middle window still scores it.
            var copy = Dir("corpus-with-silence");
            Directory.CreateDirectory(copy);
            var rows = File.ReadAllLines(Path.Combine(corpus.Root, "manifest.csv"))
                .Select((line, i) => i == 0 ? line : Path.Combine(corpus.Root, line.Split(',')[0]) + line[line.IndexOf(',')..]).ToList();
            var silence = MediaFiles.Silence(copy, "silence.wav", seconds: 2);
            rows.Add($"{silence},bonafide,D1,dev,nobody,test,human,CC0-1.0,2.000");
            File.WriteAllLines(Path.Combine(copy, "manifest.csv"), rows);
            var withSilence = MoeFunctions.Training.Evaluation.Evaluator.Evaluate(Dir("bundle"), copy, "dev", bootstrap: 20, log: _ => { });
            var pooled = withSilence.Rows.Where(r => r.Domain == "pooled" && r.System == "uniform ensemble").ToDictionary(r => r.Scoring, r => r.Files);
            Assert.Equal(12, pooled["whole file"]);
            Assert.Equal(13, pooled["middle window"]);
            Assert.Contains("1 of 13 files had no speech window", withSilence.Notes);
        }
        finally { Directory.Delete(root, true); }
    }
}
