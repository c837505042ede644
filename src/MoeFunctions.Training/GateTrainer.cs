using MoeFunctions.Training.Data;
using MoeFunctions.Training.Evaluation;
using MoeFunctions.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>
/// Trains a gate with the experts frozen (adding an expert never changes the others). The experts' outputs are
/// computed once per crop (feature cache): <c>CropsPerClip</c> random 3 s crops per pooled training clip and the
/// middle window of each dev clip. Loss: negative log of the mixture's probability of the true class,
/// sum_i w_i p_i(class), plus, with a routing-loss weight above zero, that weight times the cross-entropy between the
/// gate's weights and the expert trained on the window's domain (windows of domains no expert covers add nothing).
/// Early stopping on the mixture's dev EER.
/// </summary>
public static class GateTrainer
{
    /// <param name="Route">Per window: the index of the expert trained on its domain, or -1 when none is.</param>
    /// <param name="Domains">Per window: its corpus domain (for the per-domain dev report).</param>
    public sealed record Cache(float[][] Waves, float[][] SpoofProbs, float[][][] Embeddings, bool[] Spoof, int[] Route, string[] Domains);

    /// <summary>Runs every frozen expert over the windows: probabilities [window][expert], embeddings [window][expert][64].</summary>
    /// <param name="expertDomains">Each expert's training domain (null when unknown), in expert order.</param>
    public static Cache BuildCache(IReadOnlyList<Lcnn> experts, IReadOnlyList<float[]> windows, bool[] spoof, string[] domains,
        IReadOnlyList<string?> expertDomains, int batch = 32)
    {
        using var fe = new TorchLogMel();
        var probs = windows.Select(_ => new float[experts.Count]).ToArray();
        var emb = windows.Select(_ => new float[experts.Count][]).ToArray();
        for (int e = 0; e < experts.Count; e++)
        {
            var (p, x) = ExpertScorer.Score(experts[e], fe, windows, batch);
            for (int i = 0; i < windows.Count; i++) { probs[i][e] = p[i]; emb[i][e] = x[i]; }
        }
        var known = expertDomains.ToList();
        var route = domains.Select(d => known.FindIndex(e => string.Equals(e, d, StringComparison.OrdinalIgnoreCase))).ToArray();
        return new Cache(windows.ToArray(), probs, emb, spoof, route, domains);
    }

    public static Cache TrainCache(IReadOnlyList<Lcnn> experts, IReadOnlyList<Clip> train, int cropsPerClip, int seed,
        IReadOnlyList<string?> expertDomains)
    {
        var rng = new Random(seed);
        var windows = new List<float[]>();
        var labels = new List<bool>();
        var domains = new List<string>();
        foreach (var clip in train)
            for (int k = 0; k < cropsPerClip; k++)
            {
                var w = new float[48000];
                int start = clip.Samples.Length > w.Length ? rng.Next(clip.Samples.Length - w.Length + 1) : 0;
                ClipStore.CropInto(clip.Samples, start, w);
                windows.Add(w);
                labels.Add(clip.Spoof);
                domains.Add(clip.Entry.Domain);
            }
        return BuildCache(experts, windows, labels.ToArray(), domains.ToArray(), expertDomains);
    }

    public static Cache DevCache(IReadOnlyList<Lcnn> experts, IReadOnlyList<Clip> dev, IReadOnlyList<string?> expertDomains) =>
        BuildCache(experts, dev.Select(c => ClipStore.MiddleWindow(c.Samples)).ToList(), dev.Select(c => c.Spoof).ToArray(),
            dev.Select(c => c.Entry.Domain).ToArray(), expertDomains);

    /// <summary>Gate logits for cached windows.</summary>
    private static Tensor GateLogits(nn.Module<Tensor, Tensor> gate, Cache cache, int[] rows)
    {
        if (gate is ClassicGate)
            return gate.forward(tensor(rows.SelectMany(r => cache.Waves[r]).ToArray()).reshape(rows.Length, -1));
        int e = cache.SpoofProbs[0].Length;
        return gate.forward(tensor(rows.SelectMany(r => cache.Embeddings[r].SelectMany(x => x)).ToArray()).reshape(rows.Length, e, 64));
    }

    /// <summary>The gate's expert weights (softmax of its logits) for every cached window: [window][expert].</summary>
    public static float[][] Weights(nn.Module<Tensor, Tensor> gate, Cache cache, int batch = 64)
    {
        gate.eval();
        using var noGrad = no_grad();
        var result = new float[cache.Spoof.Length][];
        if (result.Length == 0) return result;
        int e = cache.SpoofProbs[0].Length;
        for (int s = 0; s < result.Length; s += batch)
        {
            using var scope = NewDisposeScope();
            var rows = Enumerable.Range(s, Math.Min(batch, result.Length - s)).ToArray();
            var w = nn.functional.softmax(GateLogits(gate, cache, rows), 1).data<float>().ToArray();
            for (int i = 0; i < rows.Length; i++) result[s + i] = w[(i * e)..((i + 1) * e)];
        }
        return result;
    }

    /// <summary>Mixture P(spoof) = sum_i w_i p_i(spoof) for every cached window.</summary>
    public static float[] MixtureSpoof(nn.Module<Tensor, Tensor> gate, Cache cache) => MixtureSpoof(Weights(gate, cache), cache);

    private static float[] MixtureSpoof(float[][] weights, Cache cache) =>
        weights.Select((w, r) => w.Select((wi, i) => wi * cache.SpoofProbs[r][i]).Sum()).ToArray();

    /// <summary>Per domain whose expert is known: the share of windows whose largest gate weight is on that expert.</summary>
    public static IEnumerable<(string Domain, double Share)> OwnExpertShares(float[][] weights, Cache cache) =>
        Enumerable.Range(0, weights.Length).Where(i => cache.Route[i] >= 0).GroupBy(i => cache.Domains[i]).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(i => Array.IndexOf(weights[i], weights[i].Max()) == cache.Route[i]) / (double)g.Count()));

    /// <param name="routingLossWeight">0 trains on the mixture's loss alone, as the reference does.</param>
    public static TrainingResult Train(nn.Module<Tensor, Tensor> gate, Cache train, Cache dev, TrainingOptions o, double routingLossWeight = 0)
    {
        if (routingLossWeight > 0 && train.Route.All(r => r < 0))
            throw new InvalidOperationException("a routing loss needs experts whose training domain is known (provenance.json) and train windows of those domains");
        torch.set_num_threads(o.Threads);
        var optimizer = torch.optim.AdamW(gate.parameters(), lr: o.LearningRate, weight_decay: o.WeightDecay);
        var loop = new EpochLoop(gate, optimizer, o);
        var state = loop.StartOrResume(new RunState { Kind = gate is ClassicGate ? "gate-classic" : "gate-enhanced", Seed = o.Seed },
            saved => $"resumed {o.OutDir} after epoch {saved.EpochsDone}");
        var realIdx = Enumerable.Range(0, train.Spoof.Length).Where(i => !train.Spoof[i]).ToArray();
        var fakeIdx = Enumerable.Range(0, train.Spoof.Length).Where(i => train.Spoof[i]).ToArray();
        if (realIdx.Length == 0 || fakeIdx.Length == 0) throw new InvalidOperationException("gate training needs both classes");
        int batches = o.BatchesPerEpoch ?? Math.Max(1, (int)Math.Ceiling(train.Spoof.Length / (double)o.BatchSize));
        o.Log($"{state.Kind}: {train.Spoof.Length} cached train windows, {dev.Spoof.Length} dev windows, {batches} batches of {o.BatchSize}" +
              (routingLossWeight > 0 ? $", routing loss x {routingLossWeight:G3} on {train.Route.Count(r => r >= 0)} windows" : ""));
        return loop.Run(state, Epoch, () => ScoreDev(gate, dev, o), " - early stop");

        IEnumerable<float> Epoch(int epoch)
        {
            var rng = new Random(unchecked(o.Seed * 100_003 + epoch * 7919 + 29));
            for (int b = 0; b < batches; b++) yield return Step(rng);
        }

        float Step(Random rng)
        {
            using var scope = NewDisposeScope();
            // Balanced: bona fide and spoof alternate.
            var rows = Enumerable.Range(0, o.BatchSize).Select(i => i % 2 == 0 ? realIdx[rng.Next(realIdx.Length)] : fakeIdx[rng.Next(fakeIdx.Length)]).ToArray();
            var logits = GateLogits(gate, train, rows);
            var w = nn.functional.softmax(logits, 1);
            var pSpoof = tensor(rows.SelectMany(r => train.SpoofProbs[r]).ToArray()).reshape(rows.Length, -1);
            var isSpoof = tensor(rows.Select(r => train.Spoof[r] ? 1f : 0f).ToArray()).unsqueeze(1);
            var pTrue = isSpoof * pSpoof + (1 - isSpoof) * (1 - pSpoof);
            var loss = -((w * pTrue).sum(1) + 1e-7f).log().mean();
            // The mixture loss rewards any weighting under which the experts happen to be right on a window; the routing
            // loss adds what the corpus knows, which expert was trained on the window's domain.
            var routed = Enumerable.Range(0, rows.Length).Where(i => train.Route[rows[i]] >= 0).ToArray(); // batch positions
            if (routingLossWeight > 0 && routed.Length > 0)
            {
                var target = tensor(routed.Select(i => (long)train.Route[rows[i]]).ToArray());
                var routingLoss = nn.functional.cross_entropy(logits.index_select(0, tensor(routed.Select(i => (long)i).ToArray())), target);
                loss = loss + routingLoss * (float)routingLossWeight;
            }
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }
    }

    /// <summary>The mixture's dev EER and log loss; logs each domain's EER and where the gate sends its windows.</summary>
    public static DevScore ScoreDev(nn.Module<Tensor, Tensor> gate, Cache dev, TrainingOptions o)
    {
        if (!dev.Spoof.Any(s => s) || !dev.Spoof.Any(s => !s)) return DevScore.None;
        var weights = Weights(gate, dev);
        var mix = MixtureSpoof(weights, dev);
        // Where the gate sends each domain's windows is what tells a gate that routes from one that only averages.
        o.Log("  dev EER by domain: " + string.Join(", ", DomainEers(mix, dev).Select(d => $"{d.Domain} {ExpertTrainer.Pct(d.Eer)}")) +
              "; top weight on the domain's own expert: " + string.Join(", ", OwnExpertShares(weights, dev).Select(d => $"{d.Domain} {d.Share:P0}")));
        return DevScore.Of(mix, dev.Spoof);
    }

    /// <summary>EER of the scores within each domain that has both classes, in domain order.</summary>
    public static IEnumerable<(string Domain, double Eer)> DomainEers(float[] scores, Cache cache) =>
        cache.Domains.Distinct().Order().Select(d =>
        {
            var idx = Enumerable.Range(0, scores.Length).Where(i => cache.Domains[i] == d).ToArray();
            var labels = idx.Select(i => cache.Spoof[i]).ToArray();
            return (d, labels.Any(l => l) && labels.Any(l => !l) ? Metrics.Eer(idx.Select(i => (double)scores[i]).ToList(), labels) : double.NaN);
        });
}
