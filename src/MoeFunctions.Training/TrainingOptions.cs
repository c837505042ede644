namespace MoeFunctions.Training;

/// <summary>Settings of one training run (expert or gate). Defaults follow the reference, except the batch (32 suits two cores).</summary>
public sealed record TrainingOptions
{
    public required string OutDir { get; init; }
    public int Epochs { get; init; } = 30;
    public int BatchSize { get; init; } = 32;
    /// <summary>Batches per epoch; default: enough for each training clip to be seen about once.</summary>
    public int? BatchesPerEpoch { get; init; }
    public int Seed { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 1e-4;
    /// <summary>Cosine schedule, stepped once per epoch: lr = etaMin + (lr0 - etaMin)(1 + cos(pi t / TMax)) / 2.</summary>
    public int CosineTMax { get; init; } = 100;
    public double EtaMin { get; init; } = 1e-5;
    /// <summary>Early stopping: stop after this many epochs without a better dev EER (ties broken by the dev log loss).</summary>
    public int Patience { get; init; } = 5;
    public bool Resume { get; init; }
    /// <summary>Weights to start from: a .pt written by a previous run (e.g. a model pretrained on all domains) or an ONNX expert such as a bundle's expert-D1.onnx (<see cref="ExpertWeights"/>).</summary>
    public string? InitWeights { get; init; }
    public int Threads { get; init; } = 2;
    /// <summary>
    /// Experts only: keep an exponential moving average of the weights with this decay per optimizer step (e.g. 0.99:
    /// about the last 100 steps) and score, stop and save on it (<see cref="WeightAverage"/>); null = the reference's plain weights.
    /// </summary>
    public double? EmaDecay { get; init; }
    /// <summary>Experts only: spoof examples drawn evenly per generator instead of per clip (<see cref="Data.BalancedSampler"/>).</summary>
    public bool BalanceGenerators { get; init; }
    /// <summary>Experts only: RawBoost-style augmentation of every training crop (<see cref="Data.WaveAugmenter"/>).</summary>
    public bool Augment { get; init; }
    /// <summary>Cap on dev clips per class scored after each epoch (deterministic subset); null = all.</summary>
    public int? MaxDevClipsPerClass { get; init; }
    public Action<string> Log { get; init; } = Console.WriteLine;

    public double LearningRateAt(int epoch) =>
        EtaMin + (LearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / CosineTMax)) / 2;
}

/// <summary>One finished epoch. <paramref name="DevLogLoss"/> is NaN in states written before it was recorded.</summary>
public sealed record EpochReport(int Epoch, double Loss, double DevEer, double Seconds, double LearningRate, double DevLogLoss = double.NaN);

/// <summary>
/// A model's score on the dev split after an epoch. A dev split of a few dozen files moves its EER in steps of one
/// file, so epochs often tie; the mean binary cross-entropy of P(spoof) then says which one separates the classes better.
/// </summary>
public readonly record struct DevScore(double Eer, double LogLoss)
{
    public static readonly DevScore None = new(double.NaN, double.NaN);

    /// <summary>EER and log loss of P(spoof) on the dev windows; <see cref="None"/> when the dev split lacks a class.</summary>
    public static DevScore Of(IReadOnlyList<float> spoofProbs, IReadOnlyList<bool> spoof) =>
        !spoof.Any(s => s) || spoof.All(s => s) ? None
        : new(Evaluation.Metrics.Eer(spoofProbs.Select(p => (double)p).ToList(), spoof), MeanLogLoss(spoofProbs, spoof));

    /// <summary>Mean binary cross-entropy (nats) of P(spoof) against the labels, probabilities clamped to [1e-7, 1 - 1e-7].</summary>
    public static double MeanLogLoss(IReadOnlyList<float> spoofProbs, IReadOnlyList<bool> spoof)
    {
        double sum = 0;
        for (int i = 0; i < spoofProbs.Count; i++)
        {
            double p = Math.Clamp(spoofProbs[i], 1e-7, 1 - 1e-7);
            sum -= spoof[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / Math.Max(1, spoofProbs.Count);
    }

    /// <summary>Lower EER wins; an equal EER wins with a lower log loss. NaN (no dev split) counts as better: keep the latest.</summary>
    public bool IsBetterThan(double bestEer, double bestLogLoss) =>
        double.IsNaN(Eer) || Eer < bestEer || (Eer == bestEer && LogLoss < bestLogLoss);
}

/// <summary>Resumable run state, written as state.json next to the weights after every epoch.</summary>
public sealed record RunState
{
    public string Kind { get; init; } = "expert";
    public int EpochsDone { get; init; }
    public double BestDevEer { get; init; } = double.PositiveInfinity;
    /// <summary>Dev log loss of the best epoch; infinity in states written before it was recorded.</summary>
    public double BestDevLogLoss { get; init; } = double.PositiveInfinity;
    public int BestEpoch { get; init; }
    public int EpochsWithoutImprovement { get; init; }
    public bool Stopped { get; init; }
    public int Seed { get; init; }
    public List<EpochReport> History { get; init; } = [];
}
