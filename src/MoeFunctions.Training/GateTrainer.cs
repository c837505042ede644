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
/// sum_i w_i p_i(class). Early stopping on the mixture's dev EER.
/// </summary>
public static class GateTrainer
{
    public sealed record Cache(float[][] Waves, float[][] SpoofProbs, float[][][] Embeddings, bool[] Spoof);

    /// <summary>Runs every frozen expert over the windows: probabilities [window][expert], embeddings [window][expert][64].</summary>
    public static Cache BuildCache(IReadOnlyList<Lcnn> experts, IReadOnlyList<float[]> windows, bool[] spoof, int batch = 32)
    {
        using var fe = new TorchLogMel();
        var probs = windows.Select(_ => new float[experts.Count]).ToArray();
        var emb = windows.Select(_ => new float[experts.Count][]).ToArray();
        for (int e = 0; e < experts.Count; e++)
        {
            var (p, x) = ExpertScorer.Score(experts[e], fe, windows, batch);
            for (int i = 0; i < windows.Count; i++) { probs[i][e] = p[i]; emb[i][e] = x[i]; }
        }
        return new Cache(windows.ToArray(), probs, emb, spoof);
    }

    public static Cache TrainCache(IReadOnlyList<Lcnn> experts, IReadOnlyList<Clip> train, int cropsPerClip, int seed)
    {
        var rng = new Random(seed);
        var windows = new List<float[]>();
        var labels = new List<bool>();
        foreach (var clip in train)
            for (int k = 0; k < cropsPerClip; k++)
            {
                var w = new float[48000];
                int start = clip.Samples.Length > w.Length ? rng.Next(clip.Samples.Length - w.Length + 1) : 0;
                ClipStore.CropInto(clip.Samples, start, w);
                windows.Add(w);
                labels.Add(clip.Spoof);
            }
        return BuildCache(experts, windows, labels.ToArray());
    }

    public static Cache DevCache(IReadOnlyList<Lcnn> experts, IReadOnlyList<Clip> dev) =>
        BuildCache(experts, dev.Select(c => ClipStore.MiddleWindow(c.Samples)).ToList(), dev.Select(c => c.Spoof).ToArray());

    /// <summary>Gate logits for cached windows.</summary>
    private static Tensor GateLogits(nn.Module<Tensor, Tensor> gate, Cache cache, int[] rows)
    {
        if (gate is ClassicGate)
            return gate.forward(tensor(rows.SelectMany(r => cache.Waves[r]).ToArray()).reshape(rows.Length, -1));
        int e = cache.SpoofProbs[0].Length;
        return gate.forward(tensor(rows.SelectMany(r => cache.Embeddings[r].SelectMany(x => x)).ToArray()).reshape(rows.Length, e, 64));
    }

    /// <summary>Mixture P(spoof) = sum_i w_i p_i(spoof) for every cached window.</summary>
    public static float[] MixtureSpoof(nn.Module<Tensor, Tensor> gate, Cache cache, int batch = 64)
    {
        gate.eval();
        using var noGrad = no_grad();
        var result = new float[cache.Spoof.Length];
        for (int s = 0; s < result.Length; s += batch)
        {
            using var scope = NewDisposeScope();
            var rows = Enumerable.Range(s, Math.Min(batch, result.Length - s)).ToArray();
            var w = nn.functional.softmax(GateLogits(gate, cache, rows), 1);
            var p = tensor(rows.SelectMany(r => cache.SpoofProbs[r]).ToArray()).reshape(rows.Length, -1);
            var mix = (w * p).sum(1).data<float>().ToArray();
            mix.CopyTo(result, s);
        }
        return result;
    }

    public static TrainingResult Train(nn.Module<Tensor, Tensor> gate, Cache train, Cache dev, TrainingOptions o)
    {
        torch.set_num_threads(o.Threads);
        var optimizer = torch.optim.AdamW(gate.parameters(), lr: o.LearningRate, weight_decay: o.WeightDecay);
        var loop = new EpochLoop(gate, optimizer, o);
        var state = loop.StartOrResume(new RunState { Kind = gate is ClassicGate ? "gate-classic" : "gate-enhanced", Seed = o.Seed },
            saved => $"resumed {o.OutDir} after epoch {saved.EpochsDone}");
        var realIdx = Enumerable.Range(0, train.Spoof.Length).Where(i => !train.Spoof[i]).ToArray();
        var fakeIdx = Enumerable.Range(0, train.Spoof.Length).Where(i => train.Spoof[i]).ToArray();
        if (realIdx.Length == 0 || fakeIdx.Length == 0) throw new InvalidOperationException("gate training needs both classes");
        int batches = o.BatchesPerEpoch ?? Math.Max(1, (int)Math.Ceiling(train.Spoof.Length / (double)o.BatchSize));
        o.Log($"{state.Kind}: {train.Spoof.Length} cached train windows, {dev.Spoof.Length} dev windows, {batches} batches of {o.BatchSize}");
        return loop.Run(state, Epoch,
            () => dev.Spoof.Any(s => s) && dev.Spoof.Any(s => !s)
                ? Metrics.Eer(MixtureSpoof(gate, dev).Select(v => (double)v).ToList(), dev.Spoof) : double.NaN,
            " - early stop");

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
            var w = nn.functional.softmax(GateLogits(gate, train, rows), 1);
            var pSpoof = tensor(rows.SelectMany(r => train.SpoofProbs[r]).ToArray()).reshape(rows.Length, -1);
            var isSpoof = tensor(rows.Select(r => train.Spoof[r] ? 1f : 0f).ToArray()).unsqueeze(1);
            var pTrue = isSpoof * pSpoof + (1 - isSpoof) * (1 - pSpoof);
            var loss = -((w * pTrue).sum(1) + 1e-7f).log().mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }
    }
}
