using System.Text.Json.Serialization;
using Google.Protobuf;
using Onnx;

namespace MoeFunctions.Detection;

/// <summary>Writes the expert and gate networks as ONNX graphs (opset 17) from weight tensors named as in <see cref="ModelNames"/>.</summary>
public static class OnnxGraphWriter
{
    public const int Opset = 17;
    private const long IrVersion = 8;

    /// <summary>LCNN expert: input <see cref="ModelNames.ExpertInput"/>, outputs <see cref="ModelNames.ExpertProbs"/> and <see cref="ModelNames.ExpertEmbedding"/>.</summary>
    public static byte[] WriteExpert(IReadOnlyDictionary<string, NamedTensor> weights) => WriteExpert(weights, exposeBlocks: false);

    /// <param name="exposeBlocks">Also output each block's result ("block1".."block9", "pooled") so tests can check every layer.</param>
    internal static byte[] WriteExpert(IReadOnlyDictionary<string, NamedTensor> weights, bool exposeBlocks) =>
        WriteExpert(weights, MfmForm.ReluOfDifference, exposeBlocks);

    /// <summary>The expert with its conv MFMs in the given form (benchmarks measure both).</summary>
    public static byte[] WriteExpert(IReadOnlyDictionary<string, NamedTensor> weights, MfmForm form, bool exposeBlocks = false) =>
        WriteLcnn(weights, exposeBlocks, "lcnn_expert", (g, n, x, inChannels, outChannels, kernel, pool) =>
        {
            if (form == MfmForm.ReluOfDifference) return g.ConvMfm($"conv{n}", x, inChannels, outChannels, kernel, pool);
            x = g.Mfm(g.Conv($"conv{n}", x, inChannels, outChannels, kernel), axis: 1);
            return pool ? g.MaxPool2(x) : x;
        });

    /// <summary>
    /// The LCNN of <see cref="WriteExpert(IReadOnlyDictionary{string, NamedTensor})"/> with every Conv in QDQ form, which ONNX Runtime's
    /// graph optimiser (the scanner's ORT_ENABLE_ALL) fuses into QLinearConv: the conv input QuantizeLinear -> DequantizeLinear (uint8,
    /// per-tensor, from <paramref name="activationRanges"/>), the weight stored as 8-bit integers -> DequantizeLinear (per output channel,
    /// axis 0), the bias as int32 with scale = input scale x weight scale, and QuantizeLinear on the conv output (ORT fuses only with it).
    /// Each conv is written as two, one per MFM half; the MFM's Max and the max pool after it run on the uint8 outputs, then one
    /// DequantizeLinear returns to float. Batch norms and the dense layers stay float. Inputs and outputs are WriteExpert's.
    /// </summary>
    /// <param name="activationRanges">Calibrated float range of each conv's input and output, keyed by conv number (<see cref="ModelNames.LcnnConvs"/>).</param>
    /// <param name="quantizeFirstConv">Also quantize conv1. Off by default: with one input channel (K = 25) its QLinearConv ran about
    /// twice as slow as the FP32 conv here (profiled), so conv1 stays FP32 (see ConvMfm).</param>
    public static byte[] WriteQuantizedExpert(IReadOnlyDictionary<string, NamedTensor> weights,
        IReadOnlyDictionary<int, ConvActivationRange> activationRanges, Int8Weights format = Int8Weights.U8S8ReducedRange, bool quantizeFirstConv = false)
    {
        var first = ModelNames.LcnnConvs[0];
        foreach (var n in ModelNames.LcnnConvs.Where(n => quantizeFirstConv || n != first))
            if (!activationRanges.TryGetValue(n, out var r)) throw new ArgumentException($"no activation range for conv{n}", nameof(activationRanges));
            else r.Validate($"conv{n}");
        return WriteLcnn(weights, exposeBlocks: false, "lcnn_expert_int8", (g, n, x, inChannels, outChannels, kernel, pool) =>
            n == first && !quantizeFirstConv
                ? g.ConvMfm($"conv{n}", x, inChannels, outChannels, kernel, pool, guardPool: true)
                : g.QdqConvMfm($"conv{n}", x, inChannels, outChannels, kernel, pool, activationRanges[n], format));
    }

    /// <summary>The float LCNN with each conv's input and output as extra outputs "conv{n}.input" / "conv{n}.output" (for calibration).</summary>
    internal static byte[] WriteCalibrationExpert(IReadOnlyDictionary<string, NamedTensor> weights) =>
        WriteLcnn(weights, exposeBlocks: false, "lcnn_expert_calibration", (g, n, x, inChannels, outChannels, kernel, pool) =>
        {
            g.ExtraOutput(x, CalibrationInput(n));
            var y = g.Conv($"conv{n}", x, inChannels, outChannels, kernel);
            g.ExtraOutput(y, CalibrationOutput(n));
            y = g.Mfm(y, axis: 1);
            return pool ? g.MaxPool2(y) : y;
        });

    internal static string CalibrationInput(int conv) => $"conv{conv}.input";
    internal static string CalibrationOutput(int conv) => $"conv{conv}.output";

    /// <summary>Writes conv n, its MFM and, if <paramref name="pool"/>, the 2x2 max pool after it; returns the last output.</summary>
    private delegate string ConvWriter(GraphBuilder g, int conv, string x, int inChannels, int outChannels, int kernel, bool pool);

    /// <summary>The LCNN layer sequence; <paramref name="conv"/> writes each convolution with its MFM (float or QDQ).</summary>
    private static byte[] WriteLcnn(IReadOnlyDictionary<string, NamedTensor> weights, bool exposeBlocks, string graphName, ConvWriter conv)
    {
        var g = new GraphBuilder(weights, graphName);
        g.Input(ModelNames.ExpertInput, "N", 1, ModelNames.Mels, ModelNames.Frames);
        var x = ModelNames.ExpertInput;
        var inChannels = 1;
        var block = 0;
        foreach (var n in ModelNames.LcnnConvs)
        {
            var spec = ModelNames.LcnnLayer(n);
            x = conv(g, n, x, inChannels, spec.OutChannels, spec.Kernel, spec.PoolAfter);
            if (ModelNames.LcnnBatchNorms.Contains(n)) x = g.BatchNorm($"bn{n}", x, spec.OutChannels / 2, spatial: true);
            inChannels = spec.OutChannels / 2;
            block++;
            if (exposeBlocks) g.ExtraOutput(x, $"block{block}");
        }
        x = g.AdaptiveMaxPool(x, inChannels, ModelNames.PoolInH, ModelNames.PoolInW, ModelNames.PoolOutH, ModelNames.PoolOutW);
        if (exposeBlocks) g.ExtraOutput(x, "pooled");
        x = g.Gemm("fc1", x, inChannels * ModelNames.PoolOutH * ModelNames.PoolOutW, 2 * ModelNames.EmbeddingSize);
        var embedding = g.Mfm(x, axis: 1, output: ModelNames.ExpertEmbedding);
        x = g.BatchNorm("bn_fc", embedding, ModelNames.EmbeddingSize, spatial: false);
        x = g.Gemm("fc2", x, ModelNames.EmbeddingSize, 2);
        g.Node("Softmax", [x], [ModelNames.ExpertProbs], ("axis", 1L));
        g.Output(ModelNames.ExpertProbs, "N", 2);
        g.Output(ModelNames.ExpertEmbedding, "N", ModelNames.EmbeddingSize);
        return g.Build();
    }

    /// <summary>Classic gate: Linear(48000 -> E) + softmax over the raw window.</summary>
    public static byte[] WriteClassicGate(IReadOnlyDictionary<string, NamedTensor> weights)
    {
        var experts = Require(weights, "gate.weight").Shape[0];
        var g = new GraphBuilder(weights, "classic_gate");
        g.Input(ModelNames.ClassicGateInput, "N", ModelNames.WindowSamples);
        var x = g.Gemm("gate", ModelNames.ClassicGateInput, ModelNames.WindowSamples, experts);
        g.Node("Softmax", [x], [ModelNames.GateWeights], ("axis", 1L));
        g.Output(ModelNames.GateWeights, "N", experts);
        return g.Build();
    }

    /// <summary>Enhanced gate over the experts' embeddings [N, E, 64] (dropout omitted: inference graph).</summary>
    public static byte[] WriteEnhancedGate(IReadOnlyDictionary<string, NamedTensor> weights, int experts)
    {
        if (experts < 1) throw new ArgumentOutOfRangeException(nameof(experts));
        const int proj = ModelNames.EnhancedProjection;
        var g = new GraphBuilder(weights, "enhanced_gate");
        g.Input(ModelNames.EnhancedGateInput, "N", experts, ModelNames.EmbeddingSize);
        var parts = new List<string>();
        string? product = null;
        for (var i = 0; i < experts; i++)
        {
            var index = g.Constant($"expert_index_{i}", [], [(long)i]);
            var e = g.Node("Gather", [ModelNames.EnhancedGateInput, index], [$"embedding_{i}"], ("axis", 1L));
            var p = g.Gemm($"proj{i}", e, ModelNames.EmbeddingSize, proj);
            p = g.BatchNorm("bn_proj", p, proj, spatial: false);
            p = g.Node("LeakyRelu", [p], [$"proj{i}_act"], ("alpha", (float)ModelNames.LeakySlope));
            parts.Add(p);
            product = product is null ? p : g.Node("Mul", [product, p], [$"product_{i}"]);
        }
        var scale = g.Weight("product_scale", proj);
        parts.Add(g.Node("Mul", [product!, scale], ["product_scaled"]));
        var x = g.Node("Concat", parts, ["gate_features"], ("axis", 1L));
        x = g.Gemm("fc1", x, proj * (experts + 1), ModelNames.EnhancedHidden);
        x = g.BatchNorm("bn1", x, ModelNames.EnhancedHidden, spatial: false);
        x = g.Node("LeakyRelu", [x], ["fc1_act"], ("alpha", (float)ModelNames.LeakySlope));
        x = g.Gemm("fc2", x, ModelNames.EnhancedHidden, experts);
        g.Node("Softmax", [x], [ModelNames.GateWeights], ("axis", 1L));
        g.Output(ModelNames.GateWeights, "N", experts);
        return g.Build();
    }

    /// <summary>
    /// PyTorch's adaptive pooling bins (start = floor(i*in/out), end = ceil((i+1)*in/out)) as a flat index table
    /// [outH*outW, K] into the inH*inW map; bins smaller than K repeat their first index, which leaves a max unchanged.
    /// </summary>
    public static long[,] AdaptivePoolIndex(int inH, int inW, int outH, int outW)
    {
        static (int Start, int End) Bin(int i, int input, int output) =>
            (i * input / output, ((i + 1) * input + output - 1) / output);

        var maxH = Enumerable.Range(0, outH).Max(i => Bin(i, inH, outH) is var b ? b.End - b.Start : 0);
        var maxW = Enumerable.Range(0, outW).Max(j => Bin(j, inW, outW) is var b ? b.End - b.Start : 0);
        var table = new long[outH * outW, maxH * maxW];
        for (var i = 0; i < outH; i++)
        for (var j = 0; j < outW; j++)
        {
            var (h0, h1) = Bin(i, inH, outH);
            var (w0, w1) = Bin(j, inW, outW);
            var k = 0;
            for (var h = h0; h < h1; h++)
            for (var w = w0; w < w1; w++)
                table[i * outW + j, k++] = h * inW + w;
            for (; k < maxH * maxW; k++) table[i * outW + j, k] = h0 * inW + w0;
        }
        return table;
    }

    private static NamedTensor Require(IReadOnlyDictionary<string, NamedTensor> weights, string name) =>
        weights.TryGetValue(name, out var t) ? t : throw new ArgumentException($"missing weight tensor '{name}'");

    /// <summary>Accumulates nodes and initializers; checks each weight's shape against what the layer needs.</summary>
    private sealed class GraphBuilder(IReadOnlyDictionary<string, NamedTensor> weights, string name)
    {
        private readonly GraphProto _graph = new() { Name = name };
        private readonly HashSet<string> _initializers = [];
        private int _counter;

        private string Fresh(string hint) => $"{hint}_{_counter++}";

        public void Input(string name, params object[] dims) => _graph.Input.Add(ValueInfo(name, dims));
        public void Output(string name, params object[] dims) => _graph.Output.Add(ValueInfo(name, dims));

        public void ExtraOutput(string value, string alias)
        {
            Node("Identity", [value], [alias]);
            _graph.Output.Add(new ValueInfoProto
            {
                Name = alias,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }

        public string Node(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, params (string Name, object Value)[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = Fresh(op) };
            node.Input.AddRange(inputs);
            node.Output.AddRange(outputs);
            foreach (var (attrName, value) in attributes)
            {
                var a = new AttributeProto { Name = attrName };
                switch (value)
                {
                    case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
                    case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
                    case long[] ls: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ls); break;
                    default: throw new ArgumentException($"attribute type {value.GetType()}");
                }
                node.Attribute.Add(a);
            }
            _graph.Node.Add(node);
            return node.Output[0];
        }

        /// <summary>The named weight, checked for shape, added once as an initializer.</summary>
        public string Weight(string tensorName, params int[] shape)
        {
            var t = Checked(tensorName, shape);
            if (_initializers.Add(tensorName)) _graph.Initializer.Add(FloatTensor(tensorName, shape.Select(d => (long)d).ToArray(), t.Data));
            return tensorName;
        }

        /// <summary>The named weight, checked for shape (not added to the graph).</summary>
        private NamedTensor Checked(string tensorName, params int[] shape)
        {
            var t = Require(weights, tensorName);
            if (!t.Shape.SequenceEqual(shape))
                throw new ArgumentException($"weight '{tensorName}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}]");
            if (t.Data.Length != shape.Aggregate(1, (a, b) => a * b))
                throw new ArgumentException($"weight '{tensorName}' has {t.Data.Length} values for shape [{string.Join(",", shape)}]");
            return t;
        }

        public string Constant(string tensorName, long[] shape, long[] values)
        {
            var t = new TensorProto { Name = tensorName, DataType = (int)TensorProto.Types.DataType.Int64 };
            t.Dims.AddRange(shape);
            t.Int64Data.AddRange(values);
            _graph.Initializer.Add(t);
            return tensorName;
        }

        private string FloatConstant(string tensorName, long[] shape, float[] values)
        {
            _graph.Initializer.Add(FloatTensor(tensorName, shape, values));
            return tensorName;
        }

        public string Conv(string layer, string x, int inChannels, int outChannels, int kernel)
        {
            var w = Weight($"{layer}.weight", outChannels, inChannels, kernel, kernel);
            var b = Weight($"{layer}.bias", outChannels);
            return SameConv(x, w, b, kernel, Fresh(layer));
        }

        /// <summary>A stride-1 Conv node padded to keep the map's size (every LCNN conv).</summary>
        private string SameConv(string x, string w, string b, int kernel, string output)
        {
            long p = kernel / 2;
            return Node("Conv", [x, w, b], [output],
                ("kernel_shape", new long[] { kernel, kernel }), ("pads", new[] { p, p, p, p }), ("strides", new long[] { 1, 1 }));
        }

        /// <summary>
        /// Conv and MFM with the conv in QDQ form (see <see cref="WriteQuantizedExpert"/>): Q/DQ on the input, int8 (or uint8, zero
        /// point 128) weights per output channel, int32 bias at scale x_scale * w_scale, Q/DQ on the output. The conv is written as
        /// two convs, one per MFM half, whose outputs meet in an element-wise Max: ONNX Runtime runs QLinearConv channels-last, where a
        /// Split along the channels costs as much as the convolution itself (measured, docs/benchmarks.md "INT8 weights").
        /// </summary>
        public string QdqConvMfm(string layer, string x, int inChannels, int outChannels, int kernel, bool pool, ConvActivationRange range, Int8Weights format)
        {
            var w = Checked($"{layer}.weight", outChannels, inChannels, kernel, kernel);
            var b = Checked($"{layer}.bias", outChannels);
            var (xScale, xZero) = ConvActivationRange.Uint8(range.InputMin, range.InputMax);
            var (yScale, yZero) = ConvActivationRange.Uint8(range.OutputMin, range.OutputMax);
            var xs = FloatConstant($"{layer}.input_scale", [], [xScale]);
            var xz = IntegerConstant($"{layer}.input_zero_point", TensorProto.Types.DataType.Uint8, [], [xZero]);
            var xq = Node("QuantizeLinear", [x, xs, xz], [Fresh(layer + "_input_q")]);
            // Both halves share the output scale (the whole conv's range), so the Max compares like with like.
            var ys = FloatConstant($"{layer}.output_scale", [], [yScale]);
            var yz = IntegerConstant($"{layer}.output_zero_point", TensorProto.Types.DataType.Uint8, [], [yZero]);
            var half = outChannels / 2;
            var halves = new string[2];
            for (var h = 0; h < 2; h++)
            {
                var part = $"{layer}.half{h}";
                // One DQ per consumer: ORT fuses a DQ -> Conv -> Q group only when the DQ feeds that conv alone.
                var xd = Node("DequantizeLinear", [xq, xs, xz], [Fresh(part + "_input_dq")]);
                var wd = QuantizedWeight(part, w.Data.AsSpan(h * half * inChannels * kernel * kernel, half * inChannels * kernel * kernel), half, inChannels, kernel, format, out var wScale);
                var bd = QuantizedBias(part, b.Data.AsSpan(h * half, half), xScale, wScale);
                var y = SameConv(xd, wd, bd, kernel, Fresh(part));
                var yq = Node("QuantizeLinear", [y, ys, yz], [Fresh(part + "_output_q")]);
                halves[h] = yq;
            }
            // MFM and max pool on the uint8 values (one scale, so the order is the float one), then one DQ on a quarter of the data.
            var y8 = Node("Max", halves, [Fresh(layer + "_mfm_q")]);
            if (pool) y8 = MaxPool2(y8);
            return Node("DequantizeLinear", [y8, ys, yz], [Fresh(layer + "_mfm")]);
        }

        /// <summary>
        /// FP32 conv and MFM without a channel Split of the conv output: max(a, b) = b + Relu(a - b), where a - b is one conv with
        /// weights Wa - Wb. ORT's channel-blocked (NCHWc) kernels fuse the Relu and the Add into the convs and keep the following max
        /// pool blocked too; a Split or a Max forces reorders of the network's largest map (profiled: about 1.3x for the whole
        /// expert, docs/benchmarks.md). The file keeps the layer's own weight and bias; the halves, their difference and any scaling
        /// are graph nodes on constants, which ORT folds once when the session loads. Equal to Conv + Mfm up to float rounding.
        /// </summary>
        /// <param name="guardPool">For the INT8 graph: the convs get halved weights and a Mul by 2 follows the pool (both exact in binary
        /// floating point). Without an arithmetic op there, ORT's QDQ propagation moves the next conv's QuantizeLinear above the pool,
        /// whose uint8 NCHW kernel then costs 20x the blocked float pool (profiled).</param>
        public string ConvMfm(string layer, string x, int inChannels, int outChannels, int kernel, bool pool, bool guardPool = false)
        {
            var w = Weight($"{layer}.weight", outChannels, inChannels, kernel, kernel);
            var b = Weight($"{layer}.bias", outChannels);
            string[] wHalves = [Fresh(layer + "_wa"), Fresh(layer + "_wb")], bHalves = [Fresh(layer + "_ba"), Fresh(layer + "_bb")];
            Node("Split", [w], wHalves, ("axis", 0L));
            Node("Split", [b], bHalves, ("axis", 0L));
            if (guardPool)
            {
                var half = FloatConstant(Fresh(layer + "_half"), [], [0.5f]);
                wHalves = wHalves.Select(h => Node("Mul", [h, half], [Fresh(h + "_halved")])).ToArray();
                bHalves = bHalves.Select(h => Node("Mul", [h, half], [Fresh(h + "_halved")])).ToArray();
            }
            var wDiff = Node("Sub", wHalves, [Fresh(layer + "_wdiff")]);
            var bDiff = Node("Sub", bHalves, [Fresh(layer + "_bdiff")]);
            var diff = SameConv(x, wDiff, bDiff, kernel, Fresh(layer + "_diff"));
            var second = SameConv(x, wHalves[1], bHalves[1], kernel, Fresh(layer + "_half1"));
            var y = Node("Add", [second, Node("Relu", [diff], [Fresh(layer + "_relu")])], [Fresh(layer + "_mfm")]);
            if (!pool) return y;
            y = MaxPool2(y);
            return guardPool ? Node("Mul", [y, FloatConstant(Fresh(layer + "_unhalve"), [], [2f])], [Fresh(layer + "_pool")]) : y;
        }

        /// <summary>Symmetric per-output-channel weights. 7-bit (reduce range) keeps AVX2's u8 x s8 pair sums (vpmaddubsw) inside int16.</summary>
        private string QuantizedWeight(string part, ReadOnlySpan<float> w, int outChannels, int inChannels, int kernel, Int8Weights format, out float[] scale)
        {
            var unsigned = format == Int8Weights.U8U8;
            var qmax = format == Int8Weights.U8S8ReducedRange ? 63 : 127;
            var perChannel = inChannels * kernel * kernel;
            scale = new float[outChannels];
            var wq = new byte[w.Length];
            for (var c = 0; c < outChannels; c++)
            {
                var channel = w.Slice(c * perChannel, perChannel);
                var maxAbs = 0f;
                foreach (var v in channel) maxAbs = Math.Max(maxAbs, Math.Abs(v));
                scale[c] = maxAbs > 0 ? maxAbs / qmax : 1f;
                for (var i = 0; i < perChannel; i++)
                {
                    var q = (int)Math.Clamp(MathF.Round(channel[i] / scale[c]), -qmax, qmax);
                    wq[c * perChannel + i] = unsigned ? (byte)(q + 128) : (byte)(sbyte)q;
                }
            }
            var type = unsigned ? TensorProto.Types.DataType.Uint8 : TensorProto.Types.DataType.Int8;
            var name = IntegerConstant($"{part}.weight_quantized", type, [outChannels, inChannels, kernel, kernel], wq);
            var s = FloatConstant($"{part}.weight_scale", [outChannels], scale);
            var z = IntegerConstant($"{part}.weight_zero_point", type, [outChannels], Enumerable.Repeat(unsigned ? (byte)128 : (byte)0, outChannels).ToArray());
            return Node("DequantizeLinear", [name, s, z], [Fresh(part + "_weight_dq")], ("axis", 0L));
        }

        /// <summary>int32 bias at scale input scale x weight scale, zero point 0 (what QLinearConv adds to its accumulators).</summary>
        private string QuantizedBias(string part, ReadOnlySpan<float> bias, float xScale, float[] wScale)
        {
            var scale = new float[bias.Length];
            var q = new int[bias.Length];
            for (var c = 0; c < bias.Length; c++)
            {
                scale[c] = xScale * wScale[c];
                q[c] = (int)Math.Clamp(Math.Round(bias[c] / (double)scale[c]), int.MinValue, int.MaxValue);
            }
            var name = IntegerConstant($"{part}.bias_quantized", TensorProto.Types.DataType.Int32, [bias.Length], IntBytes(q));
            var s = FloatConstant($"{part}.bias_scale", [bias.Length], scale);
            var z = IntegerConstant($"{part}.bias_zero_point", TensorProto.Types.DataType.Int32, [bias.Length], new byte[4 * bias.Length]);
            return Node("DequantizeLinear", [name, s, z], [Fresh(part + "_bias_dq")], ("axis", 0L));
        }

        private string IntegerConstant(string tensorName, TensorProto.Types.DataType type, long[] shape, byte[] raw)
        {
            var t = new TensorProto { Name = tensorName, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
            t.Dims.AddRange(shape);
            _graph.Initializer.Add(t);
            return tensorName;
        }

        private static byte[] IntBytes(int[] values)
        {
            var bytes = new byte[values.Length * sizeof(int)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length); // little-endian, as ONNX raw data
            return bytes;
        }

        public string Gemm(string layer, string x, int inFeatures, int outFeatures)
        {
            var w = Weight($"{layer}.weight", outFeatures, inFeatures);
            var b = Weight($"{layer}.bias", outFeatures);
            return Node("Gemm", [x, w, b], [Fresh(layer)], ("transB", 1L));
        }

        /// <summary>Max-feature-map: the element-wise max of the two channel halves.</summary>
        public string Mfm(string x, int axis, string? output = null)
        {
            var a = Fresh("mfm_a");
            var b = Fresh("mfm_b");
            Node("Split", [x], [a, b], ("axis", (long)axis));
            return Node("Max", [a, b], [output ?? Fresh("mfm")]);
        }

        public string MaxPool2(string x) =>
            Node("MaxPool", [x], [Fresh("pool")], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));

        /// <summary>Eval-mode batch norm folded to y = x * scale + shift (per channel), computed in double from the running stats.</summary>
        public string BatchNorm(string layer, string x, int channels, bool spatial)
        {
            var gamma = Require(weights, $"{layer}.weight");
            var beta = Require(weights, $"{layer}.bias");
            var mean = Require(weights, $"{layer}.running_mean");
            var variance = Require(weights, $"{layer}.running_var");
            foreach (var t in new[] { gamma, beta, mean, variance })
                if (t.Shape.Length != 1 || t.Shape[0] != channels || t.Data.Length != channels)
                    throw new ArgumentException($"weight '{t.Name}' must have shape [{channels}]");
            var scale = new float[channels];
            var shift = new float[channels];
            for (var c = 0; c < channels; c++)
            {
                var s = gamma.Data[c] / Math.Sqrt(variance.Data[c] + ModelNames.BatchNormEps);
                scale[c] = (float)s;
                shift[c] = (float)(beta.Data[c] - mean.Data[c] * s);
            }
            long[] shape = spatial ? [channels, 1, 1] : [channels];
            var id = _counter++;
            var sName = FloatConstant($"{layer}.scale_{id}", shape, scale);
            var bName = FloatConstant($"{layer}.shift_{id}", shape, shift);
            var y = Node("Mul", [x, sName], [Fresh(layer + "_mul")]);
            return Node("Add", [y, bName], [Fresh(layer)]);
        }

        public string AdaptiveMaxPool(string x, int channels, int inH, int inW, int outH, int outW)
        {
            var table = AdaptivePoolIndex(inH, inW, outH, outW);
            var rows = table.GetLength(0);
            var k = table.GetLength(1);
            var flatShape = Constant("pool_flat_shape", [3], [0, channels, inH * inW]);
            var flat = Node("Reshape", [x, flatShape], [Fresh("pool_flat")]);
            var index = Constant("pool_index", [rows, k], table.Cast<long>().ToArray());
            var gathered = Node("Gather", [flat, index], [Fresh("pool_gather")], ("axis", 2L));
            var reduced = Node("ReduceMax", [gathered], [Fresh("pool_max")], ("axes", new long[] { 3 }), ("keepdims", 0L));
            var outShape = Constant("pool_out_shape", [2], [0, channels * rows]);
            return Node("Reshape", [reduced, outShape], [Fresh("pooled")]);
        }

        public byte[] Build()
        {
            var model = new ModelProto
            {
                IrVersion = IrVersion,
                ProducerName = "MoeFunctions.Detection",
                ProducerVersion = "1",
                Graph = _graph,
            };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return model.ToByteArray();
        }

        private static TensorProto FloatTensor(string name, long[] shape, float[] data)
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
            t.Dims.AddRange(shape);
            var bytes = new byte[data.Length * sizeof(float)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length); // ONNX raw data is little-endian, as is every target here
            t.RawData = ByteString.CopyFrom(bytes);
            return t;
        }

        private static ValueInfoProto ValueInfo(string name, object[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims)
                shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s }
                    : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d) });
            return new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto
                {
                    TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
                },
            };
        }
    }
}

/// <summary>How <see cref="OnnxGraphWriter.WriteQuantizedExpert"/> stores conv weights (activations are always uint8).</summary>
public enum Int8Weights
{
    /// <summary>int8 weights in [-63, 63] (7 bits, ORT's reduce_range): no int16 saturation in AVX2's u8 x s8 kernels without VNNI.</summary>
    [JsonStringEnumMemberName("u8s8-7bit")] U8S8ReducedRange,
    /// <summary>int8 weights in [-127, 127]: full resolution, but AVX2 without VNNI can saturate int16 pair sums.</summary>
    [JsonStringEnumMemberName("u8s8")] U8S8,
    /// <summary>uint8 weights (zero point 128): ORT's alternative to reduce_range on non-VNNI CPUs.</summary>
    [JsonStringEnumMemberName("u8u8")] U8U8,
}

/// <summary>Calibrated float range of one convolution's input and output (per tensor).</summary>
public sealed record ConvActivationRange(float InputMin, float InputMax, float OutputMin, float OutputMax)
{
    internal bool IsValid => float.IsFinite(InputMin) && float.IsFinite(InputMax) && float.IsFinite(OutputMin) && float.IsFinite(OutputMax)
                             && InputMin <= InputMax && OutputMin <= OutputMax;

    internal void Validate(string layer)
    {
        if (!IsValid) throw new ArgumentException($"{layer}: activation range {this} must be finite with min <= max");
    }

    /// <summary>Asymmetric uint8 scale and zero point covering [min, max] widened to include 0 (so zero is exact, as ONNX requires).</summary>
    public static (float Scale, byte ZeroPoint) Uint8(float min, float max)
    {
        var lo = Math.Min(min, 0f);
        var hi = Math.Max(max, 0f);
        var scale = (hi - lo) / 255f;
        if (!(scale > 0)) return (1f, 0);
        return (scale, (byte)Math.Clamp(MathF.Round(-lo / scale), 0, 255));
    }
}

/// <summary>How the expert graph writes each conv's max-feature-map (the same function up to float rounding).</summary>
public enum MfmForm
{
    /// <summary>b + Relu(a - b) from two convs (weights Wb and Wa - Wb): stays in ORT's channel-blocked layout; the default.</summary>
    ReluOfDifference,
    /// <summary>One conv, Split of its channels, Max of the halves: the graph up to 2026-11-26, about 1.3x slower on the CPU.</summary>
    SplitMax,
}
