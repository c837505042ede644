using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>
/// The epoch bookkeeping the expert and gate trainers share: resume from the run folder, the per-epoch cosine learning
/// rate and torch seed, best-epoch tracking and early stopping on the dev EER (ties broken by dev log loss), a
/// checkpoint and state.json after every epoch, one progress line per epoch. The trainer supplies only its batches and
/// its dev scoring; with a <paramref name="average"/> (which the trainer updates after each step and scores on dev), the
/// loop saves and restores it and best.pt holds its weights.
/// </summary>
public sealed class EpochLoop(nn.Module model, OptimizerHelper optimizer, TrainingOptions o, WeightAverage? average = null)
{
    /// <summary>
    /// With <c>Resume</c> and a state.json in <c>OutDir</c>: restores weights and optimizer, logs
    /// <paramref name="resumedLine"/> and returns the saved state. Otherwise returns <paramref name="fresh"/>.
    /// </summary>
    public RunState StartOrResume(RunState fresh, Func<RunState, string> resumedLine)
    {
        if (!o.Resume || Checkpoints.LoadState(o.OutDir) is not { } saved) return fresh;
        bool averageRestored = Checkpoints.Restore(o.OutDir, model, optimizer, average);
        o.Log(resumedLine(saved));
        if (!averageRestored) o.Log("the run kept no weight average until now: it starts at the resumed weights");
        return saved;
    }

    /// <summary>Trains from <paramref name="state"/> until <c>Epochs</c> are done or early stopping ends the run.</summary>
    /// <param name="batchLosses">Runs the batches of one epoch (1-based), yielding each batch's loss.</param>
    /// <param name="devScore">The model's dev EER and log loss now; <see cref="DevScore.None"/> when there is nothing to score.</param>
    /// <param name="earlyStopNote">Appended to the progress line of the epoch that stops the run.</param>
    public TrainingResult Run(RunState state, Func<int, IEnumerable<float>> batchLosses, Func<DevScore> devScore, string earlyStopNote)
    {
        while (state.EpochsDone < o.Epochs && !state.Stopped)
        {
            int epoch = state.EpochsDone + 1;
            var watch = Stopwatch.StartNew();
            double lr = o.LearningRateAt(epoch - 1);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            // Seeded per epoch, so a resumed run draws the same random numbers as an uninterrupted one.
            torch.random.manual_seed(o.Seed * 1000 + epoch);
            model.train();
            double lossSum = 0;
            int n = 0;
            foreach (float loss in batchLosses(epoch))
            {
                lossSum += loss;
                n++;
            }
            var dev = devScore();
            bool better = dev.IsBetterThan(state.BestDevEer, state.BestDevLogLoss);
            var report = new EpochReport(epoch, lossSum / Math.Max(1, n), dev.Eer, watch.Elapsed.TotalSeconds, lr, dev.LogLoss);
            int without = better ? 0 : state.EpochsWithoutImprovement + 1;
            state = state with
            {
                EpochsDone = epoch,
                BestDevEer = better ? dev.Eer : state.BestDevEer,
                BestDevLogLoss = better ? dev.LogLoss : state.BestDevLogLoss,
                BestEpoch = better ? epoch : state.BestEpoch,
                EpochsWithoutImprovement = without,
                Stopped = without >= o.Patience,
                History = [.. state.History, report],
            };
            Checkpoints.Save(o.OutDir, model, optimizer, state, better, average);
            o.Log($"epoch {epoch}: loss {report.Loss:F4}, dev EER {ExpertTrainer.Pct(dev.Eer)} (log loss {(double.IsFinite(dev.LogLoss) ? dev.LogLoss.ToString("F4") : "n/a")}), lr {lr:E2}, {report.Seconds:F1} s" +
                  (state.Stopped ? earlyStopNote : ""));
        }
        return new TrainingResult(o.OutDir, Path.Combine(o.OutDir, Checkpoints.BestWeights), state);
    }
}
