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
            var enhanced = TrainingPipeline.TrainGate(corpus.Root, GateKind.Enhanced, experts, Options(Dir("gate-enhanced")), cropsPerClip: 1);
            Assert.Equal(1, classic.State.EpochsDone);
            Assert.Equal("gate-enhanced", enhanced.State.Kind);

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
        }
        finally { Directory.Delete(root, true); }
    }
}
