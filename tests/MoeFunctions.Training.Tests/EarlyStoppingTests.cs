using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

/// <summary>Which epoch becomes best.pt: the lowest dev EER, and among equal EERs the lowest dev log loss.</summary>
public class EarlyStoppingTests
{
    [Fact]
    public void Equal_eer_is_decided_by_the_lower_log_loss_and_a_lower_eer_beats_any_loss()
    {
        Assert.True(new DevScore(0.10, 0.30).IsBetterThan(0.10, 0.40));
        Assert.False(new DevScore(0.10, 0.40).IsBetterThan(0.10, 0.40)); // a full tie keeps the earlier epoch
        Assert.False(new DevScore(0.10, 0.50).IsBetterThan(0.10, 0.40));
        Assert.True(new DevScore(0.05, 9.0).IsBetterThan(0.10, 0.01));
        Assert.False(new DevScore(0.15, 0.01).IsBetterThan(0.10, 9.0));
        Assert.True(DevScore.None.IsBetterThan(0.10, 0.40)); // no dev split: keep the latest
        Assert.True(new DevScore(0.20, 0.70).IsBetterThan(double.PositiveInfinity, double.PositiveInfinity)); // first epoch
    }

    [Fact]
    public void Mean_log_loss_is_the_binary_cross_entropy_of_p_spoof()
    {
        var loss = DevScore.MeanLogLoss([0.9f, 0.2f], [true, false]);
        Assert.Equal((-Math.Log(0.9f) - Math.Log(1 - 0.2f)) / 2, loss, 6);
        Assert.True(DevScore.MeanLogLoss([0f], [true]) is > 15 and < 17, "a certain miss is clamped, not infinite");
        Assert.Equal(DevScore.None, DevScore.Of([0.9f, 0.8f], [true, true])); // one class: nothing to rank
        var both = DevScore.Of([0.9f, 0.2f], [true, false]);
        Assert.Equal((0.0, loss), (both.Eer, both.LogLoss));
    }

    [Fact]
    public void The_loop_keeps_the_tied_epoch_with_the_lower_log_loss_and_counts_ties_toward_patience()
    {
        var dir = Directory.CreateTempSubdirectory("moe-early-").FullName;
        try
        {
            torch.random.manual_seed(1);
            using var model = nn.Linear(2, 2);
            var optimizer = torch.optim.AdamW(model.parameters(), lr: 1e-3);
            var options = new TrainingOptions { OutDir = dir, Epochs = 6, Patience = 2, Log = _ => { } };
            var scripted = new Queue<DevScore>([new(0.20, 0.60), new(0.20, 0.50), new(0.20, 0.55), new(0.25, 0.10), new(0.10, 0.90)]);
            var result = new EpochLoop(model, optimizer, options).Run(new RunState(), _ => [0.5f], () => scripted.Dequeue(), " stop");

            Assert.Equal(2, result.State.BestEpoch);
            Assert.Equal(0.50, result.State.BestDevLogLoss);
            Assert.Equal(4, result.State.EpochsDone); // epochs 3 and 4 are no better: patience 2 ends the run before epoch 5
            Assert.True(result.State.Stopped);
            Assert.Equal([0.60, 0.50, 0.55, 0.10], result.State.History.Select(h => h.DevLogLoss));
            var saved = Checkpoints.LoadState(dir)!;
            Assert.Equal(2, saved.BestEpoch);
            Assert.Equal(0.50, saved.BestDevLogLoss);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_state_written_before_log_loss_was_recorded_resumes_with_an_unknown_best_loss()
    {
        var dir = Directory.CreateTempSubdirectory("moe-early-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, Checkpoints.State), """
                {"kind":"expert","epochsDone":2,"bestDevEer":0.2,"bestEpoch":1,"epochsWithoutImprovement":1,"stopped":false,"seed":1,
                 "history":[{"epoch":1,"loss":0.9,"devEer":0.2,"seconds":5,"learningRate":0.0001},{"epoch":2,"loss":0.8,"devEer":0.3,"seconds":5,"learningRate":0.0001}]}
                """);
            var state = Checkpoints.LoadState(dir)!;
            Assert.Equal(double.PositiveInfinity, state.BestDevLogLoss); // so the next epoch with EER 0.2 replaces epoch 1
            Assert.All(state.History, h => Assert.True(double.IsNaN(h.DevLogLoss)));
            Assert.True(new DevScore(0.2, 0.4).IsBetterThan(state.BestDevEer, state.BestDevLogLoss));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
