using Microsoft.ML.OnnxRuntime;
using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

/// <summary>Plain float64 forward passes of the networks, written from the layer definitions (not from the graph writer).</summary>
internal static class Reference
{
    public static double[] Conv(double[] x, int cin, int h, int w, NamedTensor weight, NamedTensor bias, int k)
    {
        var cout = weight.Shape[0];
        var p = k / 2;
        var y = new double[cout * h * w];
        for (var o = 0; o < cout; o++)
        for (var i = 0; i < h; i++)
        for (var j = 0; j < w; j++)
        {
            double s = bias.Data[o];
            for (var c = 0; c < cin; c++)
            for (var a = 0; a < k; a++)
            {
                var ii = i + a - p;
                if (ii < 0 || ii >= h) continue;
                for (var b = 0; b < k; b++)
                {
                    var jj = j + b - p;
                    if (jj < 0 || jj >= w) continue;
                    s += weight.Data[((o * cin + c) * k + a) * k + b] * x[(c * h + ii) * w + jj];
                }
            }
            y[(o * h + i) * w + j] = s;
        }
        return y;
    }

    /// <summary>Max of the two channel halves; <paramref name="inner"/> = values per channel.</summary>
    public static double[] Mfm(double[] x, int channels, int inner)
    {
        var half = channels / 2;
        var y = new double[half * inner];
        for (var i = 0; i < y.Length; i++) y[i] = Math.Max(x[i], x[i + half * inner]);
        return y;
    }

    public static double[] MaxPool2(double[] x, int c, int h, int w)
    {
        int oh = h / 2, ow = w / 2;
        var y = new double[c * oh * ow];
        for (var ch = 0; ch < c; ch++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var m = double.NegativeInfinity;
            for (var a = 0; a < 2; a++)
            for (var b = 0; b < 2; b++)
                m = Math.Max(m, x[(ch * h + 2 * i + a) * w + 2 * j + b]);
            y[(ch * oh + i) * ow + j] = m;
        }
        return y;
    }

    public static double[] BatchNorm(double[] x, int c, int inner, IReadOnlyDictionary<string, NamedTensor> wts, string layer)
    {
        var y = new double[x.Length];
        for (var ch = 0; ch < c; ch++)
        {
            var g = wts[$"{layer}.weight"].Data[ch];
            var b = wts[$"{layer}.bias"].Data[ch];
            var m = wts[$"{layer}.running_mean"].Data[ch];
            var v = wts[$"{layer}.running_var"].Data[ch];
            for (var i = 0; i < inner; i++)
                y[ch * inner + i] = (x[ch * inner + i] - m) / Math.Sqrt(v + 1e-5) * g + b;
        }
        return y;
    }

    /// <summary>torch.nn.AdaptiveMaxPool2d: bin i covers floor(i*in/out) .. ceil((i+1)*in/out) - 1.</summary>
    public static double[] AdaptiveMaxPool(double[] x, int c, int h, int w, int oh, int ow)
    {
        var y = new double[c * oh * ow];
        for (var ch = 0; ch < c; ch++)
        for (var i = 0; i < oh; i++)
        for (var j = 0; j < ow; j++)
        {
            var h0 = (int)Math.Floor((double)i * h / oh);
            var h1 = (int)Math.Ceiling((double)(i + 1) * h / oh);
            var w0 = (int)Math.Floor((double)j * w / ow);
            var w1 = (int)Math.Ceiling((double)(j + 1) * w / ow);
            var m = double.NegativeInfinity;
            for (var a = h0; a < h1; a++)
            for (var b = w0; b < w1; b++)
                m = Math.Max(m, x[(ch * h + a) * w + b]);
            y[(ch * oh + i) * ow + j] = m;
        }
        return y;
    }

    public static double[] Linear(double[] x, NamedTensor weight, NamedTensor bias)
    {
        int o = weight.Shape[0], n = weight.Shape[1];
        var y = new double[o];
        for (var r = 0; r < o; r++)
        {
            double s = bias.Data[r];
            for (var c = 0; c < n; c++) s += weight.Data[r * n + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    public static double[] Softmax(double[] x)
    {
        var max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        var s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    public static double[] LeakyRelu(double[] x) => x.Select(v => v >= 0 ? v : 0.01 * v).ToArray();

    public sealed record ExpertTrace(List<double[]> Blocks, double[] Pooled, double[] Embedding, double[] Probs);

    /// <summary>The LCNN of DESIGN.md section 1 on one [1, 80, 301] input.</summary>
    public static ExpertTrace Expert(IReadOnlyDictionary<string, NamedTensor> wts, double[] input)
    {
        // (conv, out channels, kernel, pool after MFM, batch norm after)
        (int N, int Out, int K, bool Pool, bool Bn)[] layers =
        [
            (1, 64, 5, true, false), (4, 64, 1, false, true), (7, 96, 3, true, true), (11, 96, 1, false, true),
            (14, 128, 3, true, false), (17, 128, 1, false, true), (20, 64, 3, false, true), (23, 64, 1, false, true),
            (26, 64, 3, false, false),
        ];
        var x = input;
        int c = 1, h = 80, w = 301;
        var blocks = new List<double[]>();
        foreach (var l in layers)
        {
            x = Conv(x, c, h, w, wts[$"conv{l.N}.weight"], wts[$"conv{l.N}.bias"], l.K);
            x = Mfm(x, l.Out, h * w);
            c = l.Out / 2;
            if (l.Pool) { x = MaxPool2(x, c, h, w); h /= 2; w /= 2; }
            if (l.Bn) x = BatchNorm(x, c, h * w, wts, $"bn{l.N}");
            blocks.Add(x);
        }
        var pooled = AdaptiveMaxPool(x, c, h, w, 16, 8);
        var fc1 = Linear(pooled, wts["fc1.weight"], wts["fc1.bias"]);
        var embedding = Mfm(fc1, 128, 1);
        var bn = BatchNorm(embedding, 64, 1, wts, "bn_fc");
        var probs = Softmax(Linear(bn, wts["fc2.weight"], wts["fc2.bias"]));
        return new ExpertTrace(blocks, pooled, embedding, probs);
    }

    public static double[] ClassicGate(IReadOnlyDictionary<string, NamedTensor> wts, double[] window) =>
        Softmax(Linear(window, wts["gate.weight"], wts["gate.bias"]));

    /// <summary>Enhanced gate of DESIGN.md section 1 in eval mode (dropout is the identity).</summary>
    public static double[] EnhancedGate(IReadOnlyDictionary<string, NamedTensor> wts, double[][] embeddings)
    {
        var parts = new List<double[]>();
        var product = Enumerable.Repeat(1.0, 32).ToArray();
        for (var i = 0; i < embeddings.Length; i++)
        {
            var p = LeakyRelu(BatchNorm(Linear(embeddings[i], wts[$"proj{i}.weight"], wts[$"proj{i}.bias"]), 32, 1, wts, "bn_proj"));
            parts.Add(p);
            for (var j = 0; j < 32; j++) product[j] *= p[j];
        }
        parts.Add(product.Select((v, j) => v * wts["product_scale"].Data[j]).ToArray());
        var x = parts.SelectMany(p => p).ToArray();
        x = LeakyRelu(BatchNorm(Linear(x, wts["fc1.weight"], wts["fc1.bias"]), 64, 1, wts, "bn1"));
        return Softmax(Linear(x, wts["fc2.weight"], wts["fc2.bias"]));
    }

    /// <summary>Random weights for the given shapes, with batch-norm statistics far from identity so they are really tested.</summary>
    public static Dictionary<string, NamedTensor> RandomWeights(IReadOnlyDictionary<string, int[]> shapes, int seed)
    {
        var rng = new Random(seed);
        float U(double lo, double hi) => (float)(lo + (hi - lo) * rng.NextDouble());
        var result = new Dictionary<string, NamedTensor>();
        foreach (var (name, shape) in shapes.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var data = new float[shape.Aggregate(1, (a, b) => a * b)];
            var layer = name.Contains('.') ? name[..name.LastIndexOf('.')] : name;
            var fanIn = shapes.TryGetValue(layer + ".weight", out var ws) ? ws.Skip(1).Aggregate(1, (a, b) => a * b) : 1;
            for (var i = 0; i < data.Length; i++)
                data[i] = name switch
                {
                    _ when name.EndsWith("running_var") => U(0.5, 2),
                    _ when name.EndsWith("running_mean") => U(-0.3, 0.3),
                    _ when name.StartsWith("bn") && name.EndsWith(".weight") => U(0.5, 1.5),
                    _ when name.StartsWith("bn") && name.EndsWith(".bias") => U(-0.3, 0.3),
                    "product_scale" => U(0.5, 2),
                    _ => U(-1, 1) / (float)Math.Sqrt(fanIn),
                };
            result[name] = new NamedTensor(name, shape, data);
        }
        return result;
    }

    /// <summary>Runs an ONNX model from bytes and returns the named outputs.</summary>
    public static Dictionary<string, float[]> Run(byte[] model, IEnumerable<(string Name, float[] Data, long[] Shape)> inputs, params string[] outputs)
    {
        using var session = new InferenceSession(model);
        var values = inputs.Select(i => (i.Name, Value: OrtValue.CreateTensorValueFromMemory(i.Data, i.Shape))).ToList();
        try
        {
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, values.Select(v => v.Name).ToArray(), values.Select(v => v.Value).ToArray(), outputs);
            return outputs.Select((o, k) => (o, results[k].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(x => x.o, x => x.Item2);
        }
        finally { foreach (var v in values) v.Value.Dispose(); }
    }

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var err = Math.Abs(expected[i] - actual[i]) / Math.Max(1, Math.Abs(expected[i]));
            if (err > worst) { worst = err; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: worst error {worst:g3} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)})");
    }
}
