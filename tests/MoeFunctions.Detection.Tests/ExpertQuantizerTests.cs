using Microsoft.ML.OnnxRuntime;
using MoeFunctions.Detection;
using MoeFunctions.TestSupport;
using Onnx;
using Xunit.Abstractions;

namespace MoeFunctions.Detection.Tests;

/// <summary>espeak-ng speech cut into 3 s windows and turned into log-mel features by the scanner's front end, plus the
/// shipped (trained) expert D1's weights. Calibration and evaluation use different utterances.</summary>
public sealed class QuantizerFixture : IDisposable
{
    private readonly MoeFunctions.TestSupport.TempDir _dir = MediaFiles.NewTempDir("moe-int8");

    public Dictionary<string, NamedTensor> Weights { get; }
    public byte[] ShippedExpert { get; }
    public List<float[]> Calibration { get; }
    public List<float[]> Evaluation { get; }
    /// <summary>The raw 16 kHz windows behind <see cref="Evaluation"/>, for tests that go through <see cref="MoeScorer"/>.</summary>
    public List<float[]> EvaluationWindows { get; } = [];

    public QuantizerFixture()
    {
        ShippedExpert = File.ReadAllBytes(ShippedExpertPath("D1"));
        Weights = ExpertQuantizer.ReadWeights(ShippedExpert);
        Calibration = Features(null,
            ("en", "The committee reviewed the quarterly report and agreed to publish the findings before the end of the month, after a short discussion."),
            ("en+f3", "Bright morning light fell across the kitchen table while the radio played an old song about the sea and the harbour."));
        Evaluation = Features(EvaluationWindows,
            ("en-us", "Please remember to lock the back door and switch off the lights in the garage before you go to bed tonight, thank you."),
            ("en+m3", "Seven silver swans swam silently across the shining lake while children counted them from the wooden bridge nearby."));
    }

    public static string ShippedExpertPath(string domain) => Path.Combine(Repository.Root, "models", "default", $"expert-{domain}.onnx");

    private List<float[]> Features(List<float[]>? windows, params (string Voice, string Text)[] utterances)
    {
        var frontEnd = new LogMelFrontEnd(new FrontEndSpec());
        var result = new List<float[]>();
        foreach (var (voice, text) in utterances)
        {
            var wav = MediaFiles.Speech(_dir.Path, text, voice, $"{Guid.NewGuid():N}.wav");
            var samples = MediaFiles.FfmpegDecodeDoubles(wav, "-ac", "1", "-ar", "16000").Select(v => (float)v).ToArray();
            for (var start = 0; start + ModelNames.WindowSamples <= samples.Length; start += ModelNames.WindowSamples)
            {
                var features = new float[frontEnd.OutputLength];
                frontEnd.Compute(samples.AsSpan(start, ModelNames.WindowSamples), features);
                result.Add(features);
                windows?.Add(samples.AsSpan(start, ModelNames.WindowSamples).ToArray());
            }
        }
        Assert.True(result.Count >= 4, $"espeak-ng gave only {result.Count} full windows");
        return result;
    }

    public void Dispose() => _dir.Dispose();
}

public sealed class ExpertQuantizerTests(QuantizerFixture data, ITestOutputHelper output) : IClassFixture<QuantizerFixture>
{
    /// <summary>Largest |P(bona fide)| change on the held-out windows: measured 2026-11-26 with the shipped experts (7-bit weights),
    /// at most 0.0037 (D3; D1, D2, D4 under 0.0003). The bound leaves about 5x that.</summary>
    private const double ProbabilityTolerance = 0.02;
    /// <summary>Relative L2 change of the 64-d embedding (what the enhanced gate sees; the probabilities of a confident expert
    /// saturate near 0 or 1 and hide errors): measured 0.026-0.051 over the four experts. The bound leaves about 3x.</summary>
    private const double EmbeddingTolerance = 0.15;

    [Theory]
    [InlineData(Int8Weights.U8S8ReducedRange)]
    [InlineData(Int8Weights.U8S8)]
    [InlineData(Int8Weights.U8U8)]
    public void Onnx_runtime_fuses_every_conv_into_QLinearConv(Int8Weights format)
    {
        var model = ExpertQuantizer.Quantize(data.Weights, data.Calibration, format);
        using var dir = MediaFiles.NewTempDir("moe-int8-opt");
        var optimised = Path.Combine(dir.Path, "optimised.onnx");
        using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, OptimizedModelFilePath = optimised })
        using (new InferenceSession(model, options)) { }

        var nodes = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimised)).Graph.Node;
        output.WriteLine($"{format}: {string.Join(", ", nodes.GroupBy(n => n.OpType).Select(g => $"{g.Key} x{g.Count()}"))}");
        foreach (var n in nodes.Where(n => n.OpType.Contains("Conv") && n.OpType != "QLinearConv"))
            output.WriteLine($"  left float: {n.Domain}:{n.OpType} {n.Name} ({string.Join(", ", n.Input)})");
        // conv1 (one input channel) stays FP32; every other conv is two QLinearConvs, one per MFM half.
        Assert.Equal(2 * (ModelNames.LcnnConvs.Length - 1), nodes.Count(n => n.OpType == "QLinearConv"));
        // What is left of the Q/DQ pairs: a QuantizeLinear before each conv and one DequantizeLinear after each MFM (+ pool), which
        // run on the uint8 QLinearConv outputs. A weight or input DequantizeLinear feeding a float Conv (not fused, slower than
        // FP32) would show up here.
        var producers = nodes.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        string[] passThrough = ["Transpose", "Reshape", "Max", "MaxPool", "NhwcMaxPool"]; // ORT moves DQ past data movement
        IEnumerable<string> Sources(string value) =>
            !producers.TryGetValue(value, out var p) ? ["graph input"]
            : passThrough.Contains(p.OpType) ? p.Input.Take(p.OpType == "Max" ? p.Input.Count : 1).SelectMany(Sources)
            : [p.OpType];
        Assert.All(nodes.Where(n => n.OpType == "DequantizeLinear"), n => Assert.All(Sources(n.Input[0]), s => Assert.Equal("QLinearConv", s)));
        Assert.Equal(ModelNames.LcnnConvs.Length - 1, nodes.Count(n => n.OpType == "DequantizeLinear"));
        Assert.All(nodes.Where(n => n.OpType.EndsWith("Conv", StringComparison.Ordinal) && n.OpType != "QLinearConv"),
            n => Assert.DoesNotContain(n.Input, i => Sources(i).Contains("DequantizeLinear")));
    }

    [Theory]
    [InlineData("D1")]
    [InlineData("D2")]
    [InlineData("D3")]
    [InlineData("D4")]
    public void Quantized_expert_keeps_fp32_probabilities_on_held_out_speech(string domain)
    {
        var weights = ExpertQuantizer.ReadWeights(File.ReadAllBytes(QuantizerFixture.ShippedExpertPath(domain)));
        var (fp32, fp32Embedding) = Run(OnnxGraphWriter.WriteExpert(weights), data.Evaluation);
        var (int8, int8Embedding) = Run(ExpertQuantizer.Quantize(weights, data.Calibration), data.Evaluation);
        var diffs = fp32.Zip(int8, (a, b) => Math.Abs(a - b)).ToList();
        var embeddingError = RelativeError(fp32Embedding, int8Embedding);
        output.WriteLine($"{domain}: {diffs.Count} windows; P(bona fide) FP32 {string.Join(" ", fp32.Select(p => p.ToString("F4")))}");
        output.WriteLine($"INT8 {string.Join(" ", int8.Select(p => p.ToString("F4")))}; max |diff| {diffs.Max():G3}, embedding relative L2 error {embeddingError:G3}");
        Assert.True(diffs.Max() <= ProbabilityTolerance, $"INT8 moved P(bona fide) by up to {diffs.Max():G3}");
        Assert.True(embeddingError <= EmbeddingTolerance, $"INT8 moved the embedding by {embeddingError:G3} of its norm");
        Assert.True(embeddingError > 0, "INT8 gave bit-identical embeddings: the graph is not quantized");
    }

    private static double RelativeError(float[] expected, float[] actual)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            diff += (expected[i] - actual[i]) * (double)(expected[i] - actual[i]);
            norm += expected[i] * (double)expected[i];
        }
        return Math.Sqrt(diff / norm);
    }

    [Fact]
    public void Weights_read_back_from_a_bundle_file_rebuild_the_same_expert()
    {
        var shipped = Probabilities(data.ShippedExpert, data.Evaluation);
        var rebuilt = Probabilities(OnnxGraphWriter.WriteExpert(data.Weights), data.Evaluation);
        for (var i = 0; i < shipped.Length; i++) Assert.Equal(shipped[i], rebuilt[i], 1e-6);
    }

    [Fact]
    public void Calibration_ranges_cover_zero_and_grow_with_the_data()
    {
        var ranges = ExpertQuantizer.Calibrate(data.Weights, data.Calibration);
        Assert.Equal(ModelNames.LcnnConvs, ranges.Keys.Order());
        var first = ranges[1];
        // conv1's input is the mean-normalised log-mel itself: both signs.
        Assert.Equal(data.Calibration.Min(f => f.Min()), first.InputMin);
        Assert.Equal(data.Calibration.Max(f => f.Max()), first.InputMax);
        var louder = data.Calibration.Select(f => f.Select(v => 2 * v).ToArray()).ToList();
        Assert.Equal(2 * first.InputMax, ExpertQuantizer.Calibrate(data.Weights, louder)[1].InputMax);
    }

    [Fact]
    public void Bad_calibration_input_is_refused_with_a_reason()
    {
        var empty = Assert.Throws<ArgumentException>(() => ExpertQuantizer.Quantize(data.Weights, []));
        Assert.Contains("no calibration windows", empty.Message);
        var wrong = Assert.Throws<ArgumentException>(() => ExpertQuantizer.Quantize(data.Weights, [new float[100]]));
        Assert.Contains("expected 24080", wrong.Message);
        var nan = data.Calibration[0].ToArray();
        nan[5] = float.NaN;
        Assert.Throws<ArgumentException>(() => ExpertQuantizer.Quantize(data.Weights, [nan]));
        var ranges = new Dictionary<int, ConvActivationRange>(ExpertQuantizer.Calibrate(data.Weights, data.Calibration.Take(1)));
        ranges.Remove(26);
        Assert.Contains("conv26", Assert.Throws<ArgumentException>(() => OnnxGraphWriter.WriteQuantizedExpert(data.Weights, ranges)).Message);
        Assert.Throws<InvalidDataException>(() => ExpertQuantizer.ReadWeights(OnnxGraphWriter.WriteClassicGate(
            new Dictionary<string, NamedTensor> { ["gate.weight"] = new("gate.weight", [2, 48000], new float[96000]), ["gate.bias"] = new("gate.bias", [2], new float[2]) })));
    }

    /// <summary>P(bona fide) of each window through an ORT session with the scanner's optimisation level.</summary>
    private static double[] Probabilities(byte[] model, IReadOnlyList<float[]> windows) => Run(model, windows).BonaFide;

    private static (double[] BonaFide, float[] Embedding) Run(byte[] model, IReadOnlyList<float[]> windows)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(model, options);
        var flat = windows.SelectMany(w => w).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(flat, [windows.Count, 1, ModelNames.Mels, ModelNames.Frames]);
        using var run = new RunOptions();
        using var outputs = session.Run(run, [ModelNames.ExpertInput], [input], [ModelNames.ExpertProbs, ModelNames.ExpertEmbedding]);
        var probs = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        return (Enumerable.Range(0, windows.Count).Select(i => (double)probs[2 * i]).ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }
}
