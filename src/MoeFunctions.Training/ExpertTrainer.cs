using MoeFunctions.Training.Data;
using MoeFunctions.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>What a finished (or stopped) run leaves behind.</summary>
public sealed record TrainingResult(string OutDir, string BestWeights, RunState State);

/// <summary>
/// Trains one LCNN expert as the reference does: balanced batches of random 3 s crops, cross-entropy, AdamW, cosine
/// schedule per epoch, early stopping on the dev split's EER (middle window per file; ties broken by dev log loss).
/// Checkpoints after every epoch. With <see cref="TrainingOptions.EmaDecay"/>, dev scoring, early stopping and best.pt
/// use a moving average of the weights (<see cref="WeightAverage"/>).
/// </summary>
public static class ExpertTrainer
{
    public static TrainingResult Train(IReadOnlyList<Clip> train, IReadOnlyList<Clip> dev, TrainingOptions o)
    {
        torch.set_num_threads(o.Threads);
        torch.random.manual_seed(o.Seed);
        var sampler = new BalancedSampler(train, o.BalanceGenerators);
        var augmenter = o.Augment ? new WaveAugmenter() : null;
        dev = Subset(dev, o.MaxDevClipsPerClass);
        using var frontEnd = new TorchLogMel();
        using var model = new Lcnn();
        if (o.InitWeights is not null) Initialise(model, o.InitWeights, frontEnd, sampler, o);
        var optimizer = torch.optim.AdamW(model.parameters(), lr: o.LearningRate, weight_decay: o.WeightDecay);
        using var averaged = o.EmaDecay is null ? null : new Lcnn();
        var average = o.EmaDecay is { } decay ? new WeightAverage(model, averaged!, decay) : null;
        var loop = new EpochLoop(model, optimizer, o, average);
        var state = loop.StartOrResume(new RunState { Kind = "expert", Seed = o.Seed },
            saved => $"resumed {o.OutDir} after epoch {saved.EpochsDone} (best dev EER {Pct(saved.BestDevEer)} at epoch {saved.BestEpoch})");
        int batches = o.BatchesPerEpoch ?? Math.Max(1, (int)Math.Ceiling(sampler.Count / (double)o.BatchSize));
        o.Log($"expert: {train.Count} train clips, {dev.Count} dev clips, {batches} batches of {o.BatchSize} per epoch, up to {o.Epochs} epochs" +
              (o.EmaDecay is { } d ? $"; dev scoring and best.pt on the weight average (decay {d} per step)" : "") +
              (sampler.GeneratorGroups > 0 ? $"; spoof examples drawn evenly over {sampler.GeneratorGroups} generators" : "") +
              (augmenter is null ? "" : "; crops augmented (equaliser, impulses, coloured noise)"));
        return loop.Run(state,
            epoch => sampler.Epoch(o.Seed, epoch, o.BatchSize, batches).Select((batch, b) =>
                Step(augmenter?.Apply(batch.Waves, o.BatchSize, o.Seed, epoch, b) ?? batch.Waves, batch.Labels)),
            () => dev.Count > 0 ? Dev(averaged ?? model, frontEnd, dev, o.BatchSize) : DevScore.None,
            $" - early stop (no better dev EER for {o.Patience} epochs)");

        float Step(float[] waves, long[] labels)
        {
            using var scope = NewDisposeScope();
            var x = frontEnd.Compute(tensor(waves).reshape(o.BatchSize, -1));
            var (logits, _) = model.Logits(x);
            var loss = nn.functional.cross_entropy(logits, tensor(labels));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            average?.Update();
            return loss.item<float>();
        }
    }

    /// <summary>
    /// Starts from a run's .pt, or from an ONNX expert (a bundle's): its folded batch norms are refitted on
    /// <see cref="RefitBatches"/> training batches of this run's domain first (<see cref="Lcnn.RefitBatchNorms"/>).
    /// Drawn as "epoch 0", which training never uses, so the run stays repeatable.
    /// </summary>
    internal static void Initialise(Lcnn model, string init, TorchLogMel frontEnd, BalancedSampler sampler, TrainingOptions o)
    {
        ExpertWeights.LoadInto(model, init);
        if (!ExpertWeights.IsOnnx(init)) return;
        int windows = model.RefitBatchNorms(sampler.Epoch(o.Seed, epoch: 0, o.BatchSize, RefitBatches)
            .Select(b => frontEnd.Compute(tensor(b.Waves).reshape(o.BatchSize, -1))));
        o.Log($"init from {init}: batch norms refitted on {windows} training windows");
    }

    /// <summary>Batches whose batch-norm inputs are measured when a run starts from an ONNX expert.</summary>
    public const int RefitBatches = 8;

    /// <summary>The first <paramref name="perClass"/> clips of each class in manifest order (deterministic).</summary>
    public static IReadOnlyList<Clip> Subset(IReadOnlyList<Clip> clips, int? perClass) =>
        perClass is not { } n ? clips : clips.Where(c => !c.Spoof).Take(n).Concat(clips.Where(c => c.Spoof).Take(n)).ToList();

    public static string Pct(double v) => double.IsFinite(v) ? $"{100 * v:F2} %" : "n/a";

    private static DevScore Dev(Lcnn model, TorchLogMel frontEnd, IReadOnlyList<Clip> dev, int batch)
    {
        var (probs, _) = ExpertScorer.Score(model, frontEnd, dev.Select(c => ClipStore.MiddleWindow(c.Samples)).ToList(), batch);
        return DevScore.Of(probs, dev.Select(c => c.Spoof).ToList());
    }
}

/// <summary>Runs an expert in eval mode over windows: P(spoof) and embeddings per window.</summary>
public static class ExpertScorer
{
    public static (float[] SpoofProbs, float[][] Embeddings) Score(Lcnn model, TorchLogMel frontEnd, IReadOnlyList<float[]> windows, int batch = 32)
    {
        model.eval();
        using var noGrad = no_grad();
        var probs = new float[windows.Count];
        var embeddings = new float[windows.Count][];
        for (int start = 0; start < windows.Count; start += batch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(batch, windows.Count - start);
            var flat = new float[count * windows[0].Length];
            for (int i = 0; i < count; i++) windows[start + i].CopyTo(flat, i * windows[0].Length);
            var (p, e) = model.forward(frontEnd.Compute(tensor(flat).reshape(count, -1)));
            var pd = p.data<float>().ToArray();
            var ed = e.data<float>().ToArray();
            for (int i = 0; i < count; i++)
            {
                probs[start + i] = pd[i * 2 + 1];
                embeddings[start + i] = ed.AsSpan(i * 64, 64).ToArray();
            }
        }
        return (probs, embeddings);
    }
}
