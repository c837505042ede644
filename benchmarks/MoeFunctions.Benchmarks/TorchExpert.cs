using MoeFunctions.Detection;
using MoeFunctions.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Benchmarks;

public static class TorchExpertFactory
{
    /// <summary>The Training project's LCNN with <paramref name="weights"/>, or null with the reason it cannot run here.</summary>
    public static ITorchExpert? Create(IReadOnlyDictionary<string, NamedTensor> weights, out string reason)
    {
        try
        {
            reason = "";
            return new TorchLcnnExpert(weights);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            reason = $"libtorch failed to load: {e.GetBaseException().Message}";
            return null;
        }
    }
}

/// <summary>Eager TorchSharp inference: eval mode, no autograd, input tensors made once per batch size (ONNX Runtime also reads the buffer in place).</summary>
internal sealed class TorchLcnnExpert : ITorchExpert
{
    private readonly Lcnn _model = new();
    private readonly Dictionary<int, Tensor> _inputs = [];

    public TorchLcnnExpert(IReadOnlyDictionary<string, NamedTensor> weights)
    {
        using (no_grad())
            foreach (var (name, parameter) in _model.state_dict())
            {
                if (!weights.TryGetValue(name, out var w)) continue; // num_batches_tracked
                using var source = tensor(w.Data, w.Shape.Select(d => (long)d).ToArray());
                parameter.copy_(source);
            }
        _model.eval();
        torch.set_num_threads(Environment.ProcessorCount);
        Description = $"TorchSharp eager (libtorch CPU), eval(), no_grad, {torch.get_num_threads()} threads";
    }

    public string Description { get; }

    public void Run(float[] features, int batch)
    {
        if (!_inputs.TryGetValue(batch, out var input))
            _inputs[batch] = input = tensor(features.AsSpan(0, batch * ModelNames.Mels * ModelNames.Frames).ToArray(),
                [batch, 1, ModelNames.Mels, ModelNames.Frames]);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (probs, _) = _model.forward(input);
        if (probs.shape[0] != batch) throw new InvalidOperationException("expert returned the wrong shape");
    }

    public void Dispose()
    {
        foreach (var t in _inputs.Values) t.Dispose();
        _model.Dispose();
    }
}
