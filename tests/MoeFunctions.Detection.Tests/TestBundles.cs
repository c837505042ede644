using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "moe-det-" + Guid.NewGuid().ToString("N")[..12]);
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}

/// <summary>Small bundles whose outputs a test can predict, written with the real graph writer.</summary>
internal static class TestBundles
{
    /// <summary>An expert whose fc2 has zero weights: its bona-fide probability is <paramref name="bonafide"/> for any input.</summary>
    public static byte[] ConstantExpert(double bonafide, int seed)
    {
        var w = Reference.RandomWeights(ModelNames.ExpertShapes(), seed);
        w["fc2.weight"] = new NamedTensor("fc2.weight", [2, 64], new float[128]);
        // softmax([0, b1])[0] = 1 / (1 + e^b1) = bonafide
        w["fc2.bias"] = new NamedTensor("fc2.bias", [2], [0f, (float)Math.Log((1 - bonafide) / bonafide)]);
        return OnnxGraphWriter.WriteExpert(w);
    }

    /// <summary>Gate logits = bias + sampleZeroWeights * window[0]: the first sample of a window steers the routing.</summary>
    public static byte[] ClassicGate(float[] bias, float[]? sampleZeroWeights = null)
    {
        var e = bias.Length;
        var weight = new float[e * ModelNames.WindowSamples];
        if (sampleZeroWeights is not null)
            for (var i = 0; i < e; i++) weight[i * ModelNames.WindowSamples] = sampleZeroWeights[i];
        return OnnxGraphWriter.WriteClassicGate(new Dictionary<string, NamedTensor>
        {
            ["gate.weight"] = new("gate.weight", [e, ModelNames.WindowSamples], weight),
            ["gate.bias"] = new("gate.bias", [e], bias),
        });
    }

    /// <summary>An enhanced gate whose fc2 has zero weights: its weights are softmax(<paramref name="bias"/>) whatever the embeddings.</summary>
    public static byte[] EnhancedGate(float[] bias, int seed = 77)
    {
        var e = bias.Length;
        var w = Reference.RandomWeights(ModelNames.EnhancedGateShapes(e), seed);
        w["fc2.weight"] = new NamedTensor("fc2.weight", [e, 64], new float[e * 64]);
        w["fc2.bias"] = new NamedTensor("fc2.bias", [e], bias);
        return OnnxGraphWriter.WriteEnhancedGate(w, e);
    }

    public static BundleManifest Write(string dir, double[] expertBonafide, byte[] classicGate, byte[]? enhancedGate = null,
        Func<BundleManifest, BundleManifest>? edit = null)
    {
        var files = new Dictionary<string, byte[]>();
        var experts = new List<ExpertEntry>();
        for (var i = 0; i < expertBonafide.Length; i++)
        {
            var file = $"expert{i + 1}.onnx";
            files[file] = ConstantExpert(expertBonafide[i], seed: 10 + i);
            experts.Add(new ExpertEntry { Name = $"e{i + 1}", Domain = $"domain {i + 1}", File = file, Sha256 = "" });
        }
        files["gate.onnx"] = classicGate;
        if (enhancedGate is not null) files["gate-enhanced.onnx"] = enhancedGate;
        var manifest = new BundleManifest
        {
            Name = "test-bundle",
            Version = "1.0.0",
            Trained = true,
            Experts = experts,
            Gates = new GateFiles
            {
                Classic = new GateFile { File = "gate.onnx", Sha256 = "" },
                Enhanced = enhancedGate is null ? null : new GateFile { File = "gate-enhanced.onnx", Sha256 = "" },
            },
            Routing = new RoutingDefaults { Mode = RoutingMode.Sparse, TopK = 1 },
        };
        if (edit is not null) manifest = edit(manifest);
        return BundleWriter.Write(dir, manifest, files);
    }

    /// <summary>Noise windows whose first sample is <paramref name="steer"/> (see <see cref="ClassicGate"/>).</summary>
    public static float[] Window(float steer, int seed)
    {
        var rng = new Random(seed);
        var w = new float[ModelNames.WindowSamples];
        for (var i = 0; i < w.Length; i++) w[i] = (float)((rng.NextDouble() * 2 - 1) * 0.1);
        w[0] = steer;
        return w;
    }

    public static double[] Softmax(params double[] x) => Reference.Softmax(x);
}
