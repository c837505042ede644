using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

public class OnnxGraphWriterTests
{
    private static double[] RandomInput(int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
    }

    [Fact]
    public void Expert_matches_a_float64_reference_layer_by_layer()
    {
        var weights = Reference.RandomWeights(ModelNames.ExpertShapes(), seed: 1);
        var model = OnnxGraphWriter.WriteExpert(weights, exposeBlocks: true);
        const int n = 2, len = 80 * 301;
        var inputs = Enumerable.Range(0, n).Select(i => RandomInput(len, 100 + i)).ToArray();
        var flat = inputs.SelectMany(x => x).Select(v => (float)v).ToArray();
        var outputNames = Enumerable.Range(1, 9).Select(b => $"block{b}").Concat(["pooled", ModelNames.ExpertEmbedding, ModelNames.ExpertProbs]).ToArray();
        var got = Reference.Run(model, [(ModelNames.ExpertInput, flat, [n, 1, 80, 301])], outputNames);

        for (var i = 0; i < n; i++)
        {
            // The reference sees the float32-rounded input the graph sees.
            var trace = Reference.Expert(weights, inputs[i].Select(v => (double)(float)v).ToArray());
            for (var b = 0; b < 9; b++)
            {
                var size = trace.Blocks[b].Length;
                Reference.AssertClose(trace.Blocks[b], got[$"block{b + 1}"].AsSpan(i * size, size), 1e-4, $"window {i} block {b + 1}");
            }
            Reference.AssertClose(trace.Pooled, got["pooled"].AsSpan(i * 4096, 4096), 1e-4, $"window {i} adaptive pool");
            Reference.AssertClose(trace.Embedding, got[ModelNames.ExpertEmbedding].AsSpan(i * 64, 64), 1e-4, $"window {i} embedding");
            Reference.AssertClose(trace.Probs, got[ModelNames.ExpertProbs].AsSpan(i * 2, 2), 1e-4, $"window {i} probs");
        }
    }

    [Fact]
    public void Expert_graph_without_debug_outputs_gives_the_same_results_as_the_checked_one()
    {
        // The layer-by-layer test checks the graph with debug outputs; the shipped graph must compute the same.
        var weights = Reference.RandomWeights(ModelNames.ExpertShapes(), seed: 2);
        var input = RandomInput(3 * 80 * 301, 7).Select(v => (float)v).ToArray();
        (string, float[], long[])[] feed = [(ModelNames.ExpertInput, input, [3, 1, 80, 301])];
        var plain = Reference.Run(OnnxGraphWriter.WriteExpert(weights), feed, ModelNames.ExpertProbs, ModelNames.ExpertEmbedding);
        var debug = Reference.Run(OnnxGraphWriter.WriteExpert(weights, exposeBlocks: true), feed, ModelNames.ExpertProbs, ModelNames.ExpertEmbedding);
        Reference.AssertClose(debug[ModelNames.ExpertProbs].Select(v => (double)v).ToArray(), plain[ModelNames.ExpertProbs], 1e-6, "probs");
        Reference.AssertClose(debug[ModelNames.ExpertEmbedding].Select(v => (double)v).ToArray(), plain[ModelNames.ExpertEmbedding], 1e-6, "embedding");
        for (var i = 0; i < 3; i++) Assert.InRange(plain[ModelNames.ExpertProbs][2 * i] + plain[ModelNames.ExpertProbs][2 * i + 1], 0.9999f, 1.0001f);
    }

    [Fact]
    public void The_cuda_rewrite_of_a_shipped_expert_computes_what_the_file_does()
    {
        // MoeScorer.CudaExpertGraph reads the weights back from the file (b + Relu(a - b)) and writes one conv, Split, Max per MFM.
        var file = OnnxGraphWriter.WriteExpert(Reference.RandomWeights(ModelNames.ExpertShapes(), seed: 3));
        var rewritten = MoeScorer.CudaExpertGraph(file);
        Assert.NotEqual(file, rewritten);
        var input = RandomInput(3 * 80 * 301, 9).Select(v => (float)v).ToArray();
        (string, float[], long[])[] feed = [(ModelNames.ExpertInput, input, [3, 1, 80, 301])];
        var expected = Reference.Run(file, feed, ModelNames.ExpertProbs, ModelNames.ExpertEmbedding);
        var got = Reference.Run(rewritten, feed, ModelNames.ExpertProbs, ModelNames.ExpertEmbedding);
        Reference.AssertClose(expected[ModelNames.ExpertProbs].Select(v => (double)v).ToArray(), got[ModelNames.ExpertProbs], 1e-5, "probs");
        Reference.AssertClose(expected[ModelNames.ExpertEmbedding].Select(v => (double)v).ToArray(), got[ModelNames.ExpertEmbedding], 1e-4, "embedding");
    }

    [Fact]
    public void The_cuda_rewrite_leaves_a_graph_that_is_not_an_lcnn_as_it_is()
    {
        var gate = OnnxGraphWriter.WriteClassicGate(Reference.RandomWeights(new Dictionary<string, int[]> { ["gate.weight"] = [4, ModelNames.WindowSamples], ["gate.bias"] = [4] }, seed: 4));
        Assert.Same(gate, MoeScorer.CudaExpertGraph(gate));
    }

    [Theory]
    [InlineData(10, 37, 16, 8)]
    [InlineData(7, 5, 3, 3)]
    [InlineData(4, 9, 4, 2)]
    [InlineData(3, 3, 5, 7)]
    public void Adaptive_pool_index_table_reproduces_torch_adaptive_max_pool(int h, int w, int oh, int ow)
    {
        var table = OnnxGraphWriter.AdaptivePoolIndex(h, w, oh, ow);
        var x = RandomInput(h * w, h * 100 + w);
        var expected = Reference.AdaptiveMaxPool(x, 1, h, w, oh, ow);
        for (var r = 0; r < oh * ow; r++)
        {
            var m = double.NegativeInfinity;
            for (var k = 0; k < table.GetLength(1); k++) m = Math.Max(m, x[table[r, k]]);
            Assert.Equal(expected[r], m);
        }
    }

    [Fact]
    public void Classic_gate_matches_reference()
    {
        const int e = 3;
        var weights = Reference.RandomWeights(ModelNames.ClassicGateShapes(e), seed: 3);
        var windows = Enumerable.Range(0, 2).Select(i => RandomInput(48000, 40 + i).Select(v => (float)(v * 0.1)).ToArray()).ToArray();
        var got = Reference.Run(OnnxGraphWriter.WriteClassicGate(weights),
            [(ModelNames.ClassicGateInput, windows.SelectMany(x => x).ToArray(), [2, 48000])], ModelNames.GateWeights)[ModelNames.GateWeights];
        for (var i = 0; i < 2; i++)
            Reference.AssertClose(Reference.ClassicGate(weights, windows[i].Select(v => (double)v).ToArray()), got.AsSpan(i * e, e), 1e-4, $"gate {i}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Enhanced_gate_matches_reference(int e)
    {
        var weights = Reference.RandomWeights(ModelNames.EnhancedGateShapes(e), seed: 4 + e);
        const int n = 3;
        var emb = Enumerable.Range(0, n * e).Select(i => RandomInput(64, 500 + i).Select(v => (double)(float)v).ToArray()).ToArray();
        var got = Reference.Run(OnnxGraphWriter.WriteEnhancedGate(weights, e),
            [(ModelNames.EnhancedGateInput, emb.SelectMany(x => x).Select(v => (float)v).ToArray(), [n, e, 64])], ModelNames.GateWeights)[ModelNames.GateWeights];
        for (var i = 0; i < n; i++)
            Reference.AssertClose(Reference.EnhancedGate(weights, emb.Skip(i * e).Take(e).ToArray()), got.AsSpan(i * e, e), 1e-4, $"enhanced gate {i}");
    }

    [Fact]
    public void Expert_has_the_reference_parameter_count()
    {
        // DESIGN.md: about 0.68 M trainable parameters (batch-norm running statistics are buffers, not parameters).
        var trainable = ModelNames.ExpertShapes().Where(s => !s.Key.Contains("running_"))
            .Sum(s => s.Value.Aggregate(1, (a, b) => a * b));
        Assert.InRange(trainable, 675_000, 690_000);
    }

    [Fact]
    public void Missing_or_misshaped_weights_are_named()
    {
        var weights = Reference.RandomWeights(ModelNames.ExpertShapes(), seed: 5);
        weights.Remove("conv7.bias");
        Assert.Contains("conv7.bias", Assert.Throws<ArgumentException>(() => OnnxGraphWriter.WriteExpert(weights)).Message);

        weights = Reference.RandomWeights(ModelNames.ExpertShapes(), seed: 5);
        weights["fc1.weight"] = new NamedTensor("fc1.weight", [128, 4000], new float[128 * 4000]);
        Assert.Contains("fc1.weight", Assert.Throws<ArgumentException>(() => OnnxGraphWriter.WriteExpert(weights)).Message);
    }
}
