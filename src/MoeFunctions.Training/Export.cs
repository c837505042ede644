using MoeFunctions.Detection;
using MoeFunctions.Training.Networks;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>
/// TorchSharp modules -> ONNX through the scanner's <see cref="OnnxGraphWriter"/>. The modules' state_dict names are
/// the <see cref="ModelNames"/> names, so this is a name-for-name copy (num_batches_tracked is training-only).
/// </summary>
public static class Export
{
    public static Dictionary<string, NamedTensor> Weights(nn.Module module)
    {
        var result = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var (name, t) in module.state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            using var cpu = t.detach().cpu().to_type(ScalarType.Float32).contiguous();
            result[name] = new NamedTensor(name, cpu.shape.Select(d => (int)d).ToArray(), cpu.data<float>().ToArray());
        }
        return result;
    }

    public static byte[] Expert(Lcnn expert) => OnnxGraphWriter.WriteExpert(Weights(expert));
    public static byte[] ClassicGate(ClassicGate gate) => OnnxGraphWriter.WriteClassicGate(Weights(gate));
    public static byte[] EnhancedGate(EnhancedGate gate) => OnnxGraphWriter.WriteEnhancedGate(Weights(gate), gate.Experts);

    public static Lcnn LoadExpert(string weightsPath)
    {
        var model = new Lcnn();
        model.load(weightsPath);
        model.eval();
        return model;
    }
}
