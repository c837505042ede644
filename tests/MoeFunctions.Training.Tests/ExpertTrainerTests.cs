using MoeFunctions.Training.Data;
using MoeFunctions.Training.Evaluation;
using MoeFunctions.Training.Networks;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

[Collection(TinyCorpusCollection.Name)]
public class ExpertTrainerTests(TinyCorpus corpus)
{
    private static TrainingOptions Options(string dir, int epochs, bool resume = false) => new()
    {
        OutDir = dir, Epochs = epochs, BatchSize = 8, BatchesPerEpoch = 4, Seed = 7, LearningRate = 1e-3,
        Resume = resume, Log = _ => { },
    };

    /// <summary>
    /// Cross-entropy on the training clips' middle windows with batch statistics (train-mode batch norm, as the
    /// optimiser sees it): after a dozen steps the running statistics of eval mode are not settled yet.
    /// </summary>
    private static double MeanCrossEntropy(string weights, IReadOnlyList<Clip> clips)
    {
        using var model = new Lcnn();
        model.load(weights);
        model.train();
        using var fe = new TorchLogMel();
        using var noGrad = no_grad();
        using var x = fe.Compute(tensor(clips.SelectMany(c => ClipStore.MiddleWindow(c.Samples)).ToArray()).reshape(clips.Count, -1));
        var (logits, embedding) = model.Logits(x);
        using var loss = nn.functional.cross_entropy(logits, tensor(clips.Select(c => c.Spoof ? 1L : 0L).ToArray()));
        logits.Dispose();
        embedding.Dispose();
        return loss.item<float>();
    }

    [Fact]
    public void TrainingLowersTheLossAndResumeContinuesFromTheNextEpoch()
    {
        var train = ClipStore.Load(corpus.Manifest, corpus.Manifest.Select(split: "train"));
        var dev = ClipStore.Load(corpus.Manifest, corpus.Manifest.Select(split: "dev"));
        var dir = Directory.CreateTempSubdirectory("moe-expert-").FullName;
        try
        {
            // Untrained reference: the same seed's initial weights, saved before any step.
            random.manual_seed(7);
            using (var init = new Lcnn()) init.save(Path.Combine(dir, "init.pt"));
            double before = MeanCrossEntropy(Path.Combine(dir, "init.pt"), train);

            var first = ExpertTrainer.Train(train, dev, Options(dir, epochs: 1));
            Assert.Equal(1, first.State.EpochsDone);
            var second = ExpertTrainer.Train(train, dev, Options(dir, epochs: 3, resume: true));
            Assert.Equal(3, second.State.EpochsDone);
            Assert.Equal([1, 2, 3], second.State.History.Select(h => h.Epoch));
            Assert.Equal(first.State.History[0], second.State.History[0]); // epoch 1 kept, not rerun
            Assert.True(second.State.History[2].LearningRate < second.State.History[0].LearningRate, "cosine schedule decays per epoch");
            Assert.All(second.State.History, h => Assert.InRange(h.DevEer, 0, 1));

            double after = MeanCrossEntropy(Path.Combine(dir, Checkpoints.LastWeights), train);
            Assert.True(after < before, $"cross-entropy on the training clips: before {before:F4}, after {after:F4}");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Augmented_training_is_repeatable_and_trains_on_other_crops_than_plain_training()
    {
        var train = ClipStore.Load(corpus.Manifest, corpus.Manifest.Select(split: "train"));
        var dirs = Enumerable.Range(0, 3).Select(_ => Directory.CreateTempSubdirectory("moe-augment-").FullName).ToArray();
        try
        {
            double Loss(string dir, bool augment) =>
                ExpertTrainer.Train(train, [], Options(dir, epochs: 1) with { BatchesPerEpoch = 2, Augment = augment }).State.History[0].Loss;
            double augmented = Loss(dirs[0], true);
            Assert.Equal(augmented, Loss(dirs[1], true));
            Assert.NotEqual(augmented, Loss(dirs[2], false));
        }
        finally { foreach (var d in dirs) Directory.Delete(d, true); }
    }
}
