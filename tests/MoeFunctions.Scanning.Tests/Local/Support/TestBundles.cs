using MoeFunctions.Detection;

namespace MoeFunctions.Scanning.Tests.Local;

/// <summary>
/// Small bundles whose scores a test can predict: every expert has zero weights except its last bias, so its output is
/// softmax(fc2.bias) whatever the audio (P(spoof) = the chosen value, exactly); the classic gate has zero weights and a
/// bias, so its weights are softmax(bias) for every window. Written with Detection's ONNX graph writer and BundleWriter.
/// </summary>
public static class TestBundles
{
    /// <param name="expertSpoof">Each expert's fixed P(spoof), in bundle order.</param>
    /// <param name="gateBias">Classic gate bias (softmax gives the weights); null = equal weights.</param>
    public static ModelBundle Write(string directory, double[] expertSpoof, float[]? gateBias = null, bool trained = true,
                                    RoutingMode mode = RoutingMode.Sparse, int topK = 1)
    {
        var files = new Dictionary<string, byte[]>();
        var experts = new List<ExpertEntry>();
        for (var i = 0; i < expertSpoof.Length; i++)
        {
            var file = $"expert-{i}.onnx";
            files[file] = OnnxGraphWriter.WriteExpert(ConstantExpert(expertSpoof[i]));
            experts.Add(new ExpertEntry { Name = ExpertName(i), Domain = $"test domain {i}", File = file, Sha256 = "" });
        }
        files["gate-classic.onnx"] = OnnxGraphWriter.WriteClassicGate(ConstantGate(gateBias ?? new float[expertSpoof.Length]));
        BundleWriter.Write(directory, new BundleManifest
        {
            Name = "test-constant",
            Version = "1.0.0",
            Trained = trained,
            Experts = experts,
            Gates = new GateFiles { Classic = new GateFile { File = "gate-classic.onnx", Sha256 = "" } },
            Routing = new RoutingDefaults { Mode = mode, TopK = topK },
        }, files);
        return ModelBundle.Load(directory);
    }

    public static string ExpertName(int i) => $"expert{i}";

    private static Dictionary<string, NamedTensor> ConstantExpert(double spoof)
    {
        var weights = Zeros(ModelNames.ExpertShapes());
        foreach (var (name, t) in weights)
            if (name.EndsWith(".running_var") || (name.StartsWith("bn") && name.EndsWith(".weight")))
                Array.Fill(t.Data, 1f);
        // softmax([0, logit(p)]) = [1 - p, p]
        weights["fc2.bias"].Data[1] = (float)Math.Log(spoof / (1 - spoof));
        return weights;
    }

    private static Dictionary<string, NamedTensor> ConstantGate(float[] bias)
    {
        var weights = Zeros(ModelNames.ClassicGateShapes(bias.Length));
        bias.CopyTo(weights["gate.bias"].Data, 0);
        return weights;
    }

    private static Dictionary<string, NamedTensor> Zeros(IReadOnlyDictionary<string, int[]> shapes) =>
        shapes.ToDictionary(s => s.Key, s => new NamedTensor(s.Key, s.Value, new float[s.Value.Aggregate(1, (a, b) => a * b)]));
}
