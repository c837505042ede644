namespace MoeFunctions.Detection;

/// <summary>
/// The placeholder bundle shipped in models/default until training delivers one: the product's four experts and
/// both gates with PyTorch's default initialisation (deterministic from a seed), marked trained=false.
/// </summary>
public static class UntrainedBundle
{
    public const int DefaultSeed = 20250406;

    public static readonly IReadOnlyList<(string Name, string Domain)> Experts =
    [
        ("d1-vocoder", "read speech (LibriSpeech, LJSpeech) vs classical vocoder re-synthesis (Griffin-Lim, LPC/mel-cepstral, codec2)"),
        ("d2-neural-tts", "modern neural TTS and voice cloning (Tortoise, VALL-E, YourTTS, Mega-TTS, VS-TTS, codec resynthesis) vs LibriSpeech"),
        ("d3-telephone", "telephone voice prompts (Asterisk, several languages) vs older TTS (espeak-ng, festival, flite) through the same telephone path"),
        ("d4-short-words", "short words, letters and digits in many languages vs espeak-ng/flite renditions of the same items"),
    ];

    /// <summary>Writes the bundle into <paramref name="directory"/> and returns its manifest.</summary>
    public static BundleManifest Write(string directory, int seed = DefaultSeed)
    {
        var rng = new Random(seed);
        var files = new Dictionary<string, byte[]>();
        var entries = new List<ExpertEntry>();
        foreach (var (name, domain) in Experts)
        {
            var file = $"expert-{name}.onnx";
            files[file] = OnnxGraphWriter.WriteExpert(Init(ModelNames.ExpertShapes(), rng));
            entries.Add(new ExpertEntry { Name = name, Domain = domain, File = file, Sha256 = "" });
        }
        files["gate-classic.onnx"] = OnnxGraphWriter.WriteClassicGate(Init(ModelNames.ClassicGateShapes(Experts.Count), rng));
        files["gate-enhanced.onnx"] = OnnxGraphWriter.WriteEnhancedGate(Init(ModelNames.EnhancedGateShapes(Experts.Count), rng), Experts.Count);

        var manifest = new BundleManifest
        {
            Name = "moe-default",
            Version = "0.0.0-untrained",
            Trained = false,
            Description = "UNTRAINED placeholder: randomly initialised weights (seed " + seed + "); its scores mean nothing and must not be shown as verdicts. Replaced by the trained bundle from MoeFunctions.Training.",
            Experts = entries,
            Gates = new GateFiles
            {
                Classic = new GateFile { File = "gate-classic.onnx", Sha256 = "" },
                Enhanced = new GateFile { File = "gate-enhanced.onnx", Sha256 = "" },
            },
        };
        return BundleWriter.Write(directory, manifest, files);
    }

    /// <summary>
    /// PyTorch's defaults: Conv/Linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt 5);
    /// batch norm weight 1, bias 0, running mean 0, running var 1; the product scale 1.
    /// </summary>
    public static Dictionary<string, NamedTensor> Init(IReadOnlyDictionary<string, int[]> shapes, Random rng)
    {
        var result = new Dictionary<string, NamedTensor>();
        foreach (var (name, shape) in shapes.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var data = new float[shape.Aggregate(1, (a, b) => a * b)];
            if (name.EndsWith(".running_var") || name == "product_scale" || (IsBatchNorm(name) && name.EndsWith(".weight")))
                Array.Fill(data, 1f);
            else if (!IsBatchNorm(name))
            {
                var weightShape = shapes[name[..name.LastIndexOf('.')] + ".weight"];
                var fanIn = weightShape.Skip(1).Aggregate(1, (a, b) => a * b);
                var bound = 1 / Math.Sqrt(fanIn);
                for (var i = 0; i < data.Length; i++) data[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
            }
            result[name] = new NamedTensor(name, shape, data);
        }
        return result;
    }

    private static bool IsBatchNorm(string name) => name.StartsWith("bn");
}
