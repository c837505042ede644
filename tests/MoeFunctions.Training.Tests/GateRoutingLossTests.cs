using MoeFunctions.Training.Networks;

namespace MoeFunctions.Training.Tests;

/// <summary>
/// The gate's routing loss on a cache built by hand: two experts, two domains whose embeddings differ, and both experts
/// right on every window, so the mixture loss alone gives the gate no reason to prefer either expert. The two experts'
/// embeddings have different offsets and scales, as real experts' do: a gate whose shared batch norm trained on each
/// expert's statistics apart but ran on their mixed running statistics would route wrongly at inference.
/// </summary>
public class GateRoutingLossTests
{
    private static GateTrainer.Cache Cache(int windows, int seed)
    {
        var rng = new Random(seed);
        var spoof = Enumerable.Range(0, windows).Select(i => i % 2 == 1).ToArray();
        var domains = Enumerable.Range(0, windows).Select(i => i % 4 < 2 ? "A" : "B").ToArray();
        // Each domain moves the first 8 embedding dimensions of both experts to its own side; the rest is noise.
        float[] Embedding(string domain, float offset, float scale) => Enumerable.Range(0, 64)
            .Select(k => offset + scale * (float)((k < 8 ? (domain == "A" ? 2 : -2) : 0) + rng.NextDouble() - 0.5)).ToArray();
        var embeddings = domains.Select(d => new[] { Embedding(d, 0, 1), Embedding(d, 6, 4) }).ToArray();
        var probs = spoof.Select(s => s ? new[] { 0.95f, 0.95f } : new[] { 0.05f, 0.05f }).ToArray();
        var waves = domains.Select(_ => new float[48000]).ToArray();
        var route = domains.Select(d => d == "A" ? 0 : 1).ToArray();
        return new GateTrainer.Cache(waves, probs, embeddings, spoof, route, domains);
    }

    /// <summary>Mean weight the trained gate gives each window's own-domain expert, and the smallest per-domain share of
    /// windows whose largest weight is on that expert.</summary>
    private static (double Mean, double MinShare) OwnExpertWeight(double routingLossWeight)
    {
        var dir = Directory.CreateTempSubdirectory("moe-gate-route-").FullName;
        try
        {
            TorchSharp.torch.random.manual_seed(5);
            using var gate = new EnhancedGate(2);
            var train = Cache(128, 1);
            var dev = Cache(64, 2);
            var o = new TrainingOptions { OutDir = dir, Epochs = 6, BatchSize = 16, BatchesPerEpoch = 10, Seed = 5, LearningRate = 1e-2, Patience = 100, Log = _ => { } };
            GateTrainer.Train(gate, train, dev, o, routingLossWeight);
            var weights = GateTrainer.Weights(gate, dev);
            var shares = GateTrainer.OwnExpertShares(weights, dev).ToList();
            Assert.Equal(["A", "B"], shares.Select(d => d.Domain));
            return (weights.Select((w, i) => (double)w[dev.Route[i]]).Average(), shares.Min(d => d.Share));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Routing_loss_sends_windows_to_their_domains_expert_where_the_mixture_loss_alone_does_not()
    {
        var mixtureOnly = OwnExpertWeight(0);
        var routed = OwnExpertWeight(1);
        Assert.InRange(mixtureOnly.Mean, 0.3, 0.7); // no signal: the weights stay near an even split
        Assert.True(routed.Mean > 0.9, $"own-domain expert weight with the routing loss: {routed.Mean:F3}");
        Assert.Equal(1.0, routed.MinShare);
    }

    [Fact]
    public void Routing_loss_without_any_known_expert_domain_is_refused()
    {
        var cache = Cache(16, 3) with { Route = Enumerable.Repeat(-1, 16).ToArray() };
        using var gate = new EnhancedGate(2);
        var o = new TrainingOptions { OutDir = Path.Combine(Path.GetTempPath(), "moe-unused"), Epochs = 1, Log = _ => { } };
        var error = Assert.Throws<InvalidOperationException>(() => GateTrainer.Train(gate, cache, cache, o, routingLossWeight: 1));
        Assert.Contains("provenance.json", error.Message);
    }

    [Fact]
    public void Enhanced_gate_at_inference_matches_what_training_saw_when_experts_embeddings_differ_in_scale()
    {
        var cache = Cache(1024, 4);
        var x = TorchSharp.torch.tensor(cache.Embeddings.SelectMany(w => w.SelectMany(e => e)).ToArray()).reshape(1024, 2, 64);
        TorchSharp.torch.random.manual_seed(2);
        using var gate = new EnhancedGate(2);
        using var noGrad = TorchSharp.torch.no_grad();
        gate.train();
        foreach (var (name, module) in gate.named_modules()) if (name == "dropout") module.eval(); // compare without dropout's noise
        for (int i = 0; i < 100; i++) gate.forward(x).Dispose(); // running statistics settle (momentum 0.1)
        using var training = gate.forward(x);
        gate.eval();
        using var inference = gate.forward(x);
        // Equal up to the running variance's unbiased estimate (1024/1023); a per-expert batch norm in training was off by whole units.
        double diff = (training - inference).abs().max().item<float>();
        Assert.True(diff < 0.02, $"largest logit difference between training and inference: {diff:F4}");
    }
}
