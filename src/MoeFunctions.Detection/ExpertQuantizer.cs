using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace MoeFunctions.Detection;

/// <summary>
/// Post-training static INT8 quantization of one LCNN expert (issue 7's INT8 lever): run the FP32 graph over calibration windows,
/// take each conv input's and output's per-tensor min/max, and write the QDQ graph of <see cref="OnnxGraphWriter.WriteQuantizedExpert"/>.
/// </summary>
public static class ExpertQuantizer
{
    /// <summary>Windows per calibration run (conv1's output alone is 6 MB per window).</summary>
    public const int CalibrationBatch = 8;

    private const int FeatureLength = ModelNames.Mels * ModelNames.Frames;

    /// <summary>The quantized expert (7-bit int8 weights, see <see cref="Int8Weights.U8S8ReducedRange"/>) as ONNX bytes.</summary>
    /// <param name="calibrationFeatures">Log-mel windows as <see cref="LogMelFrontEnd"/> computes them (80 x 301 values each).</param>
    public static byte[] Quantize(IReadOnlyDictionary<string, NamedTensor> weights, IEnumerable<float[]> calibrationFeatures) =>
        Quantize(weights, calibrationFeatures, Int8Weights.U8S8ReducedRange);

    public static byte[] Quantize(IReadOnlyDictionary<string, NamedTensor> weights, IEnumerable<float[]> calibrationFeatures, Int8Weights format) =>
        OnnxGraphWriter.WriteQuantizedExpert(weights, Calibrate(weights, calibrationFeatures), format);

    /// <summary>Min/max of every conv's input and output over the windows (min/max, not a percentile: the LCNN has no ReLU
    /// clipping its tails, and a clipped conv output would move the MFM's max).</summary>
    /// <exception cref="ArgumentException">No windows, or a window of the wrong length.</exception>
    public static IReadOnlyDictionary<int, ConvActivationRange> Calibrate(IReadOnlyDictionary<string, NamedTensor> weights, IEnumerable<float[]> calibrationFeatures)
    {
        ArgumentNullException.ThrowIfNull(calibrationFeatures);
        var convs = ModelNames.LcnnConvs;
        var names = convs.SelectMany(n => new[] { OnnxGraphWriter.CalibrationInput(n), OnnxGraphWriter.CalibrationOutput(n) }).ToArray();
        var min = Enumerable.Repeat(float.PositiveInfinity, names.Length).ToArray();
        var max = Enumerable.Repeat(float.NegativeInfinity, names.Length).ToArray();

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(OnnxGraphWriter.WriteCalibrationExpert(weights), options);
        using var run = new RunOptions();
        var batch = new float[CalibrationBatch * FeatureLength];
        int pending = 0, windows = 0;
        foreach (var features in calibrationFeatures)
        {
            if (features is null || features.Length != FeatureLength)
                throw new ArgumentException($"calibration window {windows} has {features?.Length ?? 0} values, expected {FeatureLength} (80 mels x 301 frames)", nameof(calibrationFeatures));
            features.CopyTo(batch, pending * FeatureLength);
            windows++;
            if (++pending == CalibrationBatch) Observe();
        }
        if (pending > 0) Observe();
        if (windows == 0) throw new ArgumentException("no calibration windows", nameof(calibrationFeatures));

        var ranges = new Dictionary<int, ConvActivationRange>();
        for (var i = 0; i < convs.Length; i++)
        {
            var range = new ConvActivationRange(min[2 * i], max[2 * i], min[2 * i + 1], max[2 * i + 1]);
            range.Validate($"conv{convs[i]} (calibration saw a non-finite value)");
            ranges[convs[i]] = range;
        }
        return ranges;

        void Observe()
        {
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.AsMemory(0, pending * FeatureLength),
                [pending, 1, ModelNames.Mels, ModelNames.Frames]);
            using var outputs = session.Run(run, [ModelNames.ExpertInput], [input], names);
            for (var o = 0; o < names.Length; o++)
            {
                float lo = min[o], hi = max[o];
                foreach (var v in outputs[o].GetTensorDataAsSpan<float>())
                {
                    if (v < lo) lo = v;
                    if (v > hi) hi = v;
                    if (float.IsNaN(v)) lo = hi = float.NaN; // fails Validate with the layer's name
                }
                min[o] = lo;
                max[o] = hi;
            }
            pending = 0;
        }
    }

    /// <summary>
    /// The weights of an expert graph written by <see cref="OnnxGraphWriter.WriteExpert(IReadOnlyDictionary{string, NamedTensor})"/>
    /// (e.g. a bundle's expert file), so a shipped expert can be quantized. Batch norms come back as their folded form:
    /// weight = scale, bias = shift, running mean 0, running variance 1 - eps (the writer folds them back to the same scale).
    /// </summary>
    /// <exception cref="InvalidDataException">Not an ONNX model, or a weight the LCNN needs is missing.</exception>
    public static Dictionary<string, NamedTensor> ReadWeights(byte[] expertOnnx)
    {
        GraphProto graph;
        try { graph = ModelProto.Parser.ParseFrom(expertOnnx).Graph ?? throw new InvalidDataException("no graph"); }
        catch (Google.Protobuf.InvalidProtocolBufferException ex) { throw new InvalidDataException($"not an ONNX model: {ex.Message}", ex); }

        var result = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var t in graph.Initializer.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float))
        {
            var data = t.RawData.Length > 0 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray() : t.FloatData.ToArray();
            var dot = t.Name.IndexOf('.');
            var part = dot < 0 ? "" : t.Name[(dot + 1)..];
            var isScale = part.StartsWith("scale_", StringComparison.Ordinal);
            if (!isScale && !part.StartsWith("shift_", StringComparison.Ordinal))
            {
                result[t.Name] = new NamedTensor(t.Name, t.Dims.Select(d => (int)d).ToArray(), data);
                continue;
            }
            var bn = t.Name[..dot];
            var name = isScale ? $"{bn}.weight" : $"{bn}.bias";
            result[name] = new NamedTensor(name, [data.Length], data);
            result[$"{bn}.running_mean"] = new NamedTensor($"{bn}.running_mean", [data.Length], new float[data.Length]);
            result[$"{bn}.running_var"] = new NamedTensor($"{bn}.running_var", [data.Length],
                Enumerable.Repeat((float)(1 - ModelNames.BatchNormEps), data.Length).ToArray());
        }
        var missing = ModelNames.ExpertShapes().Keys.Where(k => !result.ContainsKey(k)).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"not an LCNN expert graph: missing {string.Join(", ", missing.Take(5))}");
        return result;
    }
}
