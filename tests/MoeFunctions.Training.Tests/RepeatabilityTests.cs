using System.Diagnostics;

namespace MoeFunctions.Training.Tests;

/// <summary>"Seeded and repeatable" across processes: the same `moe train` command run twice writes the same bytes.</summary>
[Collection(TinyCorpusCollection.Name)]
public class RepeatabilityTests(TinyCorpus corpus)
{
    [Fact]
    public void Experts_and_both_gates_train_to_the_same_weights_in_two_processes()
    {
        var root = Directory.CreateTempSubdirectory("moe-repeat-").FullName;
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            string[] common = ["--corpus", corpus.Root, "--seed", "3", "--threads", "2"];
            foreach (var run in new[] { "a", "b" })
            {
                Moe(["train", "expert", "--domain", "D1", "--out", Dir($"D1-{run}"), "--epochs", "1", "--batch", "8", "--batches-per-epoch", "2", .. common]);
                AssertSameRun(Dir("D1-a"), Dir($"D1-{run}"));
            }
            TrainingPipeline.TrainExpert(corpus.Root, "D2", new TrainingOptions
            {
                OutDir = Dir("D2"), Epochs = 1, BatchSize = 8, BatchesPerEpoch = 2, Seed = 3, Log = _ => { },
            });
            foreach (var kind in new[] { "classic", "enhanced" })
                foreach (var run in new[] { "a", "b" })
                {
                    Moe(["train", "gate", "--kind", kind, "--experts", $"{Dir("D1-a")},{Dir("D2")}", "--out", Dir($"{kind}-{run}"),
                        "--epochs", "3", "--crops-per-clip", "2", "--batch", "32", "--batches-per-epoch", "4", .. common]);
                    AssertSameRun(Dir($"{kind}-a"), Dir($"{kind}-{run}"));
                }
            // On the real corpus, before MKL_CBWR was set (MklReproducibility), two runs of the same classic-gate command
            // differed in about 1,700 of the gate's 768,048 bytes (both pairs tried; docs/training.md, "Repeatability").
            // These tiny runs did not show it without the setting, so this guards the property rather than reproducing
            // that fault.
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void AssertSameRun(string a, string b)
    {
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, Checkpoints.LastWeights)), File.ReadAllBytes(Path.Combine(b, Checkpoints.LastWeights)));
        var (sa, sb) = (WithoutTimes(a), WithoutTimes(b));
        Assert.NotEmpty(sa.History);
        Assert.Equal(sa.History, sb.History); // losses, dev EERs and dev log losses: all but the wall times
        Assert.Equal((sa.BestEpoch, sa.BestDevEer, sa.BestDevLogLoss), (sb.BestEpoch, sb.BestDevEer, sb.BestDevLogLoss));
    }

    private static RunState WithoutTimes(string dir)
    {
        var s = Checkpoints.LoadState(dir)!;
        return s with { History = [.. s.History.Select(h => h with { Seconds = 0 })] };
    }

    private static void Moe(string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "moe.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove(MklReproducibility.Variable); // the test checks what moe sets, not what the caller's shell did
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), $"moe {string.Join(' ', args)} did not finish");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {stdout.Result} {stderr.Result}");
    }
}
