using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.Training.Networks;

namespace MoeFunctions.Training.Tests;

/// <summary>`moe train gate --train-experts`: the reference's end-to-end training of the gate with copies of its experts.</summary>
[Collection(TinyCorpusCollection.Name)]
public class JointTrainingTests(TinyCorpus corpus)
{
    private static TrainingOptions Options(string dir) => new()
    {
        OutDir = dir, Epochs = 1, BatchSize = 8, BatchesPerEpoch = 2, Seed = 5, Log = _ => { },
    };

    [Theory]
    [InlineData(GateKind.Classic)]
    [InlineData(GateKind.Enhanced)]
    public void TrainsTheExpertsWithTheGateAndWritesEachPartAsARunFolder(GateKind kind)
    {
        var root = Directory.CreateTempSubdirectory("moe-joint-").FullName;
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            var d1 = TrainingPipeline.TrainExpert(corpus.Root, "D1", Options(Dir("D1")));
            var d2 = TrainingPipeline.TrainExpert(corpus.Root, "D2", Options(Dir("D2")));
            var startBytes = File.ReadAllBytes(d1.BestWeights);

            var joint = TrainingPipeline.TrainGate(corpus.Root, kind, [d1.BestWeights, d2.BestWeights], Options(Dir("joint")), trainExperts: true);

            Assert.Equal($"joint-{kind.ToString().ToLowerInvariant()}", joint.State.Kind);
            Assert.Equal(1, joint.State.EpochsDone);
            Assert.Equal(startBytes, File.ReadAllBytes(d1.BestWeights)); // the experts it started from are copies, not changed
            // Gradients reached the experts: a convolution's weights moved (batch-norm statistics alone would also move
            // under frozen weights, so the check looks at a trained parameter).
            foreach (var (start, domain) in new[] { (d1.BestWeights, "D1"), (d2.BestWeights, "D2") })
            {
                var part = Path.Combine(Dir("joint"), $"expert-{domain}");
                Assert.True(MaxAbsDifference(start, BundleBuilder.WeightsFile(part), "conv1.weight") > 0, $"expert-{domain} did not train");
                Assert.Equal(domain, TrainingPipeline.ProvenanceDomain(part));
                using var provenance = JsonDocument.Parse(File.ReadAllText(Path.Combine(part, "provenance.json")));
                Assert.True(provenance.RootElement.GetProperty("recipe").GetProperty("trainExperts").GetBoolean());
            }

            // The parts bundle like any runs; the classic gate part is what moe bundle's --classic-gate takes.
            if (kind != GateKind.Classic) return;
            BundleBuilder.Build(new BundleRequest
            {
                OutDir = Dir("bundle"), Corpus = corpus.Root, Log = _ => { },
                Experts = [new ExpertSource("D1", Path.Combine(Dir("joint"), "expert-D1")), new ExpertSource("D2", Path.Combine(Dir("joint"), "expert-D2"))],
                ClassicGate = Path.Combine(Dir("joint"), "gate"),
            });
            var bundle = ModelBundle.Load(Dir("bundle"));
            Assert.Equal(["D1", "D2"], bundle.Manifest.Experts.Select(e => e.Domain));
            Assert.True(double.IsFinite(bundle.Manifest.Calibration.A));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void PartFoldersAreNamedByDomainUnlessItIsUnknownOrShared()
    {
        var root = Directory.CreateTempSubdirectory("moe-joint-names-").FullName;
        try
        {
            string?[] domains = ["D1", "d1", null, "D2"];
            Assert.Equal(["expert-1", "expert-2", "expert-3", "expert-D2"],
                domains.Select((_, i) => Path.GetFileName(JointMoeTrainer.ExpertDir(root, domains, i))));
        }
        finally { Directory.Delete(root, true); }
    }

    private static double MaxAbsDifference(string a, string b, string parameter)
    {
        using var x = ExpertWeights.Load(a);
        using var y = ExpertWeights.Load(b);
        using var diff = (x.state_dict()[parameter] - y.state_dict()[parameter]).abs().max();
        return diff.item<float>();
    }
}
