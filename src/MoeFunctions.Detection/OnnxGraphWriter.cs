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
    internal static byte[] WriteExpert(IReadOnlyDictionary<string, NamedTensor> weights, bool exposeBlocks)
    {
        var g = new GraphBuilder(weights, "lcnn_expert");
        g.Input(ModelNames.ExpertInput, "N", 1, ModelNames.Mels, ModelNames.Frames);
        var x = ModelNames.ExpertInput;
        var inChannels = 1;
        var block = 0;
        foreach (var n in ModelNames.LcnnConvs)
        {
            var spec = ModelNames.LcnnLayer(n);
            x = g.Conv($"conv{n}", x, inChannels, spec.OutChannels, spec.Kernel);
            x = g.Mfm(x, axis: 1);
            if (spec.PoolAfter) x = g.MaxPool2(x);
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
            var t = Require(weights, tensorName);
            if (!t.Shape.SequenceEqual(shape))
                throw new ArgumentException($"weight '{tensorName}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}]");
            if (t.Data.Length != shape.Aggregate(1, (a, b) => a * b))
                throw new ArgumentException($"weight '{tensorName}' has {t.Data.Length} values for shape [{string.Join(",", shape)}]");
            if (_initializers.Add(tensorName)) _graph.Initializer.Add(FloatTensor(tensorName, shape.Select(d => (long)d).ToArray(), t.Data));
            return tensorName;
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
            long p = kernel / 2;
            return Node("Conv", [x, w, b], [Fresh(layer)],
                ("kernel_shape", new long[] { kernel, kernel }), ("pads", new[] { p, p, p, p }), ("strides", new long[] { 1, 1 }));
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
