using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MoeFunctions.Detection;
using MoeFunctions.Training.Networks;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

/// <summary>
/// Export = name-for-name copy into OnnxGraphWriter's graphs: ONNX Runtime and TorchSharp must agree to 1e-4 on the
/// same inputs (probabilities, embeddings, gate weights). Batch-norm statistics are randomised so they matter.
/// </summary>
public class ExportParityTests
{
    private static void RandomiseBatchNorms(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (name, t) in module.state_dict())
        {
            if (name.EndsWith("running_mean")) t.copy_(randn(t.shape) * 0.1f);
            else if (name.EndsWith("running_var")) t.copy_(rand(t.shape) + 0.5f);
            else if (name.EndsWith("bn_fc.weight") || name.EndsWith("bn1.weight") || name.EndsWith("bn_proj.weight")) t.copy_(rand(t.shape) + 0.5f);
        }
    }

    internal static Dictionary<string, float[]> RunOnnx(byte[] model, string input, float[] data, int[] shape)
    {
        using var session = new InferenceSession(model);
        var inputs = new List<NamedOnnxValue> { NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(data, shape)) };
        using var results = session.Run(inputs);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    internal static void Close(float[] expected, float[] actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max <= tolerance, $"max abs diff {max:E2} > {tolerance:E0}");
    }

    [Fact]
    public void ExpertAgreesOnProbabilitiesAndEmbeddings()
    {
        random.manual_seed(3);
        using var model = new Lcnn();
        RandomiseBatchNorms(model);
        model.eval();
        using var x = randn(3, 1, 80, 301);
        var (p, e) = model.forward(x);
        var onnx = RunOnnx(Export.Expert(model), ModelNames.ExpertInput, x.data<float>().ToArray(), [3, 1, 80, 301]);
        Close(p.data<float>().ToArray(), onnx[ModelNames.ExpertProbs]);
        Close(e.data<float>().ToArray(), onnx[ModelNames.ExpertEmbedding]);
        Assert.True(p.data<float>().ToArray().Chunk(2).All(r => Math.Abs(r[0] + r[1] - 1) < 1e-5));
    }

    [Fact]
    public void ClassicGateAgreesOnWeights()
    {
        random.manual_seed(4);
        using var gate = new ClassicGate(4);
        gate.eval();
        using var w = randn(2, 48000) * 0.2f;
        var expected = nn.functional.softmax(gate.forward(w), 1).data<float>().ToArray();
        var onnx = RunOnnx(Export.ClassicGate(gate), ModelNames.ClassicGateInput, w.data<float>().ToArray(), [2, 48000]);
        Close(expected, onnx[ModelNames.GateWeights]);
    }

    [Fact]
    public void EnhancedGateAgreesOnWeights()
    {
        random.manual_seed(5);
        using var gate = new EnhancedGate(4);
        RandomiseBatchNorms(gate);
        gate.eval();
        using var emb = randn(5, 4, 64);
        var expected = nn.functional.softmax(gate.forward(emb), 1).data<float>().ToArray();
        var onnx = RunOnnx(Export.EnhancedGate(gate), ModelNames.EnhancedGateInput, emb.data<float>().ToArray(), [5, 4, 64]);
        Close(expected, onnx[ModelNames.GateWeights]);
    }
}
