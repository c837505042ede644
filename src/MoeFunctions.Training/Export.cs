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

    /// <summary>The reverse of <see cref="Weights"/>: copies each named weight into the module's parameter or buffer of that name.</summary>
    /// <exception cref="InvalidDataException">A weight the module needs is missing or has another shape.</exception>
    public static void Load(nn.Module module, IReadOnlyDictionary<string, NamedTensor> weights, string source)
    {
        using var noGrad = no_grad();
        foreach (var (name, target) in module.state_dict())
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            if (!weights.TryGetValue(name, out var w)) throw new InvalidDataException($"{source}: no weight '{name}'");
            if (!w.Shape.Select(d => (long)d).SequenceEqual(target.shape))
                throw new InvalidDataException($"{source}: weight '{name}' has shape [{string.Join(",", w.Shape)}], expected [{string.Join(",", target.shape)}]");
            using var value = tensor(w.Data).reshape(target.shape);
            target.copy_(value);
        }
    }
}
