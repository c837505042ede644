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
    /// <summary>Early stopping: stop after this many epochs without a better dev EER.</summary>
    public int Patience { get; init; } = 5;
    public bool Resume { get; init; }
    /// <summary>Weights (a .pt written by a previous run) to start from, e.g. a model pretrained on all domains.</summary>
    public string? InitWeights { get; init; }
    public int Threads { get; init; } = 2;
    /// <summary>Cap on dev clips per class scored after each epoch (deterministic subset); null = all.</summary>
    public int? MaxDevClipsPerClass { get; init; }
    public Action<string> Log { get; init; } = Console.WriteLine;

    public double LearningRateAt(int epoch) =>
        EtaMin + (LearningRate - EtaMin) * (1 + Math.Cos(Math.PI * epoch / CosineTMax)) / 2;
}

/// <summary>One finished epoch.</summary>
public sealed record EpochReport(int Epoch, double Loss, double DevEer, double Seconds, double LearningRate);

/// <summary>Resumable run state, written as state.json next to the weights after every epoch.</summary>
public sealed record RunState
{
    public string Kind { get; init; } = "expert";
    public int EpochsDone { get; init; }
    public double BestDevEer { get; init; } = double.PositiveInfinity;
    public int BestEpoch { get; init; }
    public int EpochsWithoutImprovement { get; init; }
    public bool Stopped { get; init; }
    public int Seed { get; init; }
    public List<EpochReport> History { get; init; } = [];
}
