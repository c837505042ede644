using MoeFunctions.Detection;
using MoeFunctions.TestSupport;
using Xunit.Abstractions;

namespace MoeFunctions.Detection.Tests;

/// <summary>A fact that runs only when an environment variable is 1 (tools and measurements, not part of CI).</summary>
public sealed class EnvFactAttribute : FactAttribute
{
    public EnvFactAttribute(string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) != "1") Skip = $"set {variable}=1 to run";
    }
}

public class UntrainedBundleTests
{
    private readonly ITestOutputHelper _out;
    public UntrainedBundleTests(ITestOutputHelper output) => _out = output;

    private static string DefaultBundle => Path.Combine(Repository.Root, "models", "default");

    [Fact]
    public void The_committed_default_bundle_is_trained_verifies_and_stays_small()
    {
        var bundle = ModelBundle.Load(DefaultBundle);
        var m = bundle.Manifest;
        Assert.Equal(4, m.Experts.Count);
        Assert.NotNull(m.Gates.Enhanced);
        Assert.True(m.Trained, "models/default must be the trained bundle (docs/model-card.md)");
        Assert.NotNull(m.Training);
        Assert.NotEqual(new Calibration(), m.Calibration); // fitted on the dev splits by `moe bundle`, not the identity default
        var size = Directory.GetFiles(DefaultBundle).Sum(f => new FileInfo(f).Length);
        Assert.True(size < 15_000_000, $"models/default is {size} bytes");
    }

    [Fact]
    public void The_untrained_generator_is_deterministic_and_marks_its_bundle_untrained()
    {
        // models/default now holds the trained bundle; the generator still makes the test and benchmark placeholders.
        using var a = new TempDir();
        using var b = new TempDir();
        var written = UntrainedBundle.Write(a.Path);
        UntrainedBundle.Write(b.Path);
        var loaded = ModelBundle.Load(a.Path);
        Assert.False(loaded.Manifest.Trained);
        Assert.Contains("UNTRAINED", loaded.Manifest.Description);
        Assert.Equal(loaded.Sha256, ModelBundle.Load(b.Path).Sha256);
        Assert.Equal(written.Experts.Select(e => e.Sha256), ModelBundle.Load(b.Path).Manifest.Experts.Select(e => e.Sha256));
    }

    [Fact]
    public void Scorer_feeds_the_front_end_output_to_the_experts_unchanged()
    {
        // Dense scoring of the untrained bundle must equal front end -> expert graph run by hand.
        var bundle = ModelBundle.Load(DefaultBundle);
        using var scorer = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Dense });
        var windows = new[] { TestBundles.Window(0.2f, 1), TestBundles.Window(-0.3f, 2) };
        var scores = scorer.Score(windows);

        var fe = new LogMelFrontEnd(bundle.Manifest.FrontEnd);
        var features = new float[2 * fe.OutputLength];
        for (var i = 0; i < 2; i++) fe.Compute(windows[i], features.AsSpan(i * fe.OutputLength, fe.OutputLength));
        for (var e = 0; e < 4; e++)
        {
            var model = File.ReadAllBytes(bundle.PathOf(bundle.Manifest.Experts[e].File));
            var probs = Reference.Run(model, [(ModelNames.ExpertInput, features, [2, 1, 80, 301])], ModelNames.ExpertProbs)[ModelNames.ExpertProbs];
            for (var i = 0; i < 2; i++) Assert.Equal(probs[2 * i], scores[i].ExpertBonafide[e], 5);
        }
        Assert.All(scores, s => Assert.InRange(s.SpoofProbability, 0, 1));
        var weightSum = scores[0].GateWeights.Sum();
        Assert.InRange(weightSum, 0.9999f, 1.0001f);
    }

    /// <summary>
    /// Measurement for issue 7 (not a test): front-end ms per window and one expert's ms per window at batch 32 on CPU.
    /// MOE_BENCH=1 dotnet test tests/MoeFunctions.Detection.Tests -c Release --filter "FullyQualifiedName~Benchmark" --logger "console;verbosity=detailed"
    /// </summary>
    [EnvFact("MOE_BENCH")]
    public void Benchmark_front_end_and_expert_on_cpu()
    {
        var bundle = ModelBundle.Load(DefaultBundle);
        const int batch = 32;
        var windows = Enumerable.Range(0, batch).Select(i => TestBundles.Window(0, i)).ToArray();
        var fe = new LogMelFrontEnd(bundle.Manifest.FrontEnd);
        var features = new float[batch * fe.OutputLength];
        for (var i = 0; i < 4; i++) fe.Compute(windows[i], features.AsSpan(0, fe.OutputLength)); // warm up
        // Wall time and process CPU time: on a shared, loaded machine the CPU time is the steadier figure.
        var process = System.Diagnostics.Process.GetCurrentProcess();
        double Cpu() { process.Refresh(); return process.TotalProcessorTime.TotalMilliseconds; }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var cpu0 = Cpu();
        const int rounds = 3;
        for (var r = 0; r < rounds; r++)
            for (var i = 0; i < batch; i++) fe.Compute(windows[i], features.AsSpan(i * fe.OutputLength, fe.OutputLength));
        var feMs = sw.Elapsed.TotalMilliseconds / (rounds * batch);
        var feCpu = (Cpu() - cpu0) / (rounds * batch);

        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bundle.PathOf(bundle.Manifest.Experts[0].File), options);
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(features, [batch, 1, 80, 301]);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        session.Run(runOptions, [ModelNames.ExpertInput], [input], [ModelNames.ExpertProbs]).Dispose(); // warm up
        sw.Restart();
        cpu0 = Cpu();
        for (var r = 0; r < rounds; r++) session.Run(runOptions, [ModelNames.ExpertInput], [input], [ModelNames.ExpertProbs]).Dispose();
        var expertMs = sw.Elapsed.TotalMilliseconds / (rounds * batch);
        var expertCpu = (Cpu() - cpu0) / (rounds * batch);

        using var scorer = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 1 });
        scorer.Score(windows);
        sw.Restart();
        cpu0 = Cpu();
        for (var r = 0; r < rounds; r++) scorer.Score(windows);
        var sparseMs = sw.Elapsed.TotalMilliseconds / (rounds * batch);
        var sparseCpu = (Cpu() - cpu0) / (rounds * batch);

        // The fastest single run: on a loaded shared machine the minimum is the closest to an idle machine's figure.
        var feMin = double.MaxValue;
        for (var r = 0; r < 200; r++)
        {
            sw.Restart();
            fe.Compute(windows[r % batch], features.AsSpan(0, fe.OutputLength));
            feMin = Math.Min(feMin, sw.Elapsed.TotalMilliseconds);
        }
        var expertMin = double.MaxValue;
        for (var r = 0; r < 8; r++)
        {
            sw.Restart();
            session.Run(runOptions, [ModelNames.ExpertInput], [input], [ModelNames.ExpertProbs]).Dispose();
            expertMin = Math.Min(expertMin, sw.Elapsed.TotalMilliseconds / batch);
        }
        _out.WriteLine($"fastest single run: front end {feMin:F2} ms/window, expert {expertMin:F2} ms/window at batch {batch}");
        _out.WriteLine($"cores={Environment.ProcessorCount} load={File.ReadAllText("/proc/loadavg").Split(' ')[0]} per window: " +
            $"front end {feMs:F2} ms wall / {feCpu:F2} ms CPU (one thread); expert at batch {batch} {expertMs:F2} ms wall / {expertCpu:F2} ms CPU; " +
            $"sparse top-1 scorer end to end {sparseMs:F2} ms wall / {sparseCpu:F2} ms CPU");
        Assert.True(feMs > 0 && expertMs > 0);
    }
}
