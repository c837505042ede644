using MoeFunctions.Training.Data;
using MoeFunctions.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

public class WeightAverageTests
{
    private static nn.Module<Tensor, Tensor> Net() => nn.Sequential(("fc", nn.Linear(2, 1)), ("bn", nn.BatchNorm1d(1)));

    private static float[] Values(nn.Module m, string name) =>
        m.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(m.named_buffers())
            .Single(p => p.Item1 == name).Item2.to_type(ScalarType.Float32).data<float>().ToArray();

    [Fact]
    public void Each_update_moves_the_average_by_one_minus_the_decay_and_copies_the_batch_count()
    {
        random.manual_seed(5);
        using var model = Net();
        using var shadow = Net();
        var average = new WeightAverage(model, shadow, decay: 0.75);
        Assert.Equal(Values(model, "fc.weight"), Values(shadow, "fc.weight")); // starts at the model's weights
        Assert.False(shadow.training);

        var w0 = Values(model, "fc.weight");
        var mean0 = Values(model, "bn.running_mean");
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name == "fc.weight") p.add_(1.0f);
        model.train();
        using (var x = tensor(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }).reshape(4, 2)) model.forward(x).Dispose(); // moves bn's running stats
        var mean1 = Values(model, "bn.running_mean");
        Assert.NotEqual(mean0, mean1);

        average.Update();
        var expectedWeight = w0.Select(w => 0.75f * w + 0.25f * (w + 1)).ToArray();
        Assert.Equal(expectedWeight, Values(shadow, "fc.weight"), (a, b) => Math.Abs(a - b) < 1e-6);
        var expectedMean = mean0.Zip(mean1, (a, b) => 0.75f * a + 0.25f * b).ToArray();
        Assert.Equal(expectedMean, Values(shadow, "bn.running_mean"), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([1f], Values(shadow, "bn.num_batches_tracked")); // an integer count is copied, not averaged
    }

    [Fact]
    public void A_decay_outside_zero_to_one_or_a_shadow_of_another_shape_is_refused()
    {
        using var model = Net();
        using var shadow = Net();
        Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(model, shadow, 1.0));
        using var other = nn.Sequential(("fc", nn.Linear(2, 1)));
        Assert.Throws<ArgumentException>(() => new WeightAverage(model, other, 0.9));
        Assert.Throws<ArgumentException>(() => new WeightAverage(other, model, 0.9));
    }
}

/// <summary>`moe train expert --ema`: what the run folder holds and how resume treats the average.</summary>
[Collection(TinyCorpusCollection.Name)]
public class ExpertWeightAverageTests(TinyCorpus corpus)
{
    private static TrainingOptions Options(string dir, int epochs, double? ema, bool resume = false, List<string>? log = null) => new()
    {
        OutDir = dir, Epochs = epochs, BatchSize = 8, BatchesPerEpoch = 3, Seed = 11, LearningRate = 1e-3, EmaDecay = ema,
        Resume = resume, Log = line => log?.Add(line),
    };

    private static byte[] Bytes(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    [Fact]
    public void Best_pt_holds_the_average_and_a_resumed_run_continues_the_same_average()
    {
        var train = ClipStore.Load(corpus.Manifest, corpus.Manifest.Select("D1", "train"));
        var dev = ClipStore.Load(corpus.Manifest, corpus.Manifest.Select("D1", "dev"));
        var root = Directory.CreateTempSubdirectory("moe-ema-").FullName;
        try
        {
            string whole = Path.Combine(root, "whole"), split = Path.Combine(root, "split"), late = Path.Combine(root, "late");
            ExpertTrainer.Train(train, dev, Options(whole, epochs: 2, ema: 0.9));

            var first = ExpertTrainer.Train(train, dev, Options(split, epochs: 1, ema: 0.9));
            Assert.Equal(1, first.State.BestEpoch);
            Assert.Equal(Bytes(split, Checkpoints.LastAverage), Bytes(split, Checkpoints.BestWeights)); // best.pt = the average
            Assert.NotEqual(Bytes(split, Checkpoints.LastWeights), Bytes(split, Checkpoints.BestWeights));

            // Stopped after epoch 1 and resumed: the saved average goes on, so both runs end with the same bytes.
            ExpertTrainer.Train(train, dev, Options(split, epochs: 2, ema: 0.9, resume: true));
            Assert.Equal(Bytes(whole, Checkpoints.LastWeights), Bytes(split, Checkpoints.LastWeights));
            Assert.Equal(Bytes(whole, Checkpoints.LastAverage), Bytes(split, Checkpoints.LastAverage));
            Assert.Equal(Checkpoints.LoadState(whole)!.History.Select(h => h.DevLogLoss), Checkpoints.LoadState(split)!.History.Select(h => h.DevLogLoss));

            // A run started without an average gets one from its resumed weights, and says so.
            ExpertTrainer.Train(train, dev, Options(late, epochs: 1, ema: null));
            Assert.False(File.Exists(Path.Combine(late, Checkpoints.LastAverage)));
            var log = new List<string>();
            ExpertTrainer.Train(train, dev, Options(late, epochs: 2, ema: 0.9, resume: true, log: log));
            Assert.Contains(log, l => l.Contains("no weight average until now"));
            Assert.True(File.Exists(Path.Combine(late, Checkpoints.LastAverage)));
            Assert.NotEqual(Bytes(whole, Checkpoints.LastAverage), Bytes(late, Checkpoints.LastAverage));
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
