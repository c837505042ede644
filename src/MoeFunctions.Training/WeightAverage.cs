using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging), updated after every optimizer step:
/// average = decay x average + (1 - decay) x weights, for the parameters and the batch norms' running statistics alike;
/// integer buffers (batch counts) are copied. On a dev split of a few dozen files the weights of single epochs score far
/// apart (D2's dev EER moved between 7.5 and 36 % from one epoch to the next); the average moves slowly, so with
/// <c>--ema</c> the dev scoring, early stopping and best.pt all use it. <see cref="Shadow"/> has the model's architecture.
/// </summary>
public sealed class WeightAverage
{
    private readonly (Tensor Weights, Tensor Average)[] _pairs;
    private readonly double _decay;

    public WeightAverage(nn.Module model, nn.Module shadow, double decay)
    {
        if (!(decay >= 0 && decay < 1)) throw new ArgumentOutOfRangeException(nameof(decay), decay, "the decay must be in [0, 1)");
        _decay = decay;
        Shadow = shadow;
        var averages = Tensors(shadow).ToDictionary(t => t.Name, t => t.Tensor);
        _pairs = Tensors(model)
            .Select(t => (t.Tensor, averages.TryGetValue(t.Name, out var a) ? a
                : throw new ArgumentException($"the shadow module has no tensor '{t.Name}'", nameof(shadow))))
            .ToArray();
        if (_pairs.Length != averages.Count) throw new ArgumentException("the shadow module has tensors the model lacks", nameof(shadow));
        shadow.eval();
        Reset();
    }

    /// <summary>Every parameter and buffer of a module by its state_dict name (the live tensors, not copies).</summary>
    private static IEnumerable<(string Name, Tensor Tensor)> Tensors(nn.Module m) =>
        m.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(m.named_buffers());

    /// <summary>The averaged weights, always in eval mode.</summary>
    public nn.Module Shadow { get; }

    /// <summary>Restarts the average at the model's current weights.</summary>
    public void Reset()
    {
        using var noGrad = no_grad();
        foreach (var (weights, average) in _pairs) average.copy_(weights);
    }

    /// <summary>Moves the average one step toward the model's current weights.</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        foreach (var (weights, average) in _pairs)
        {
            if (average.is_floating_point()) average.mul_(_decay).add_(weights, alpha: 1 - _decay);
            else average.copy_(weights);
        }
    }
}
