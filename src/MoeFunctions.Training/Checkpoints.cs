using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>
/// The files of a run folder: last.pt (model), last.optim (optimizer moments), state.json (epoch, early-stopping
/// and history; the schedule and the batch sampler are functions of the epoch and the seed), best.pt (best dev EER) and,
/// in runs with a <see cref="WeightAverage"/>, last.avg.pt (the average; best.pt is then the average's weights).
/// Every file is written to a temporary name and moved, so a run killed mid-write keeps the previous checkpoint.
/// </summary>
public static class Checkpoints
{
    public const string LastWeights = "last.pt", LastOptimizer = "last.optim", State = "state.json", BestWeights = "best.pt",
        LastAverage = "last.avg.pt";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(string dir, nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, RunState state, bool best,
        WeightAverage? average = null)
    {
        Directory.CreateDirectory(dir);
        Atomic(Path.Combine(dir, LastWeights), p => model.save(p));
        Atomic(Path.Combine(dir, LastOptimizer), p => optimizer.save_state_dict(p));
        if (average is not null) Atomic(Path.Combine(dir, LastAverage), p => average.Shadow.save(p));
        if (best) Atomic(Path.Combine(dir, BestWeights), p => (average?.Shadow ?? model).save(p));
        Atomic(Path.Combine(dir, State), p => File.WriteAllText(p, JsonSerializer.Serialize(state, Json)));
    }

    public static RunState? LoadState(string dir)
    {
        var path = Path.Combine(dir, State);
        return File.Exists(path) ? JsonSerializer.Deserialize<RunState>(File.ReadAllText(path), Json) : null;
    }

    /// <summary>Loads the last epoch's weights and optimizer, and the average when the run kept one.</summary>
    /// <returns>False when <paramref name="average"/> was given but the run had none: it then starts at the loaded weights.</returns>
    public static bool Restore(string dir, nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, WeightAverage? average = null)
    {
        model.load(Path.Combine(dir, LastWeights));
        optimizer.load_state_dict(Path.Combine(dir, LastOptimizer));
        if (average is null) return true;
        var saved = Path.Combine(dir, LastAverage);
        if (!File.Exists(saved))
        {
            average.Reset();
            return false;
        }
        average.Shadow.load(saved);
        return true;
    }

    private static void Atomic(string path, Action<string> write)
    {
        var temp = path + ".tmp";
        write(temp);
        File.Move(temp, path, overwrite: true);
    }
}
