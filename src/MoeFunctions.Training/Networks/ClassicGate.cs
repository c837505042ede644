using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using TorchSharp.Modules;

namespace MoeFunctions.Training.Networks;

/// <summary>Classic gate: Linear(48000 -> E) over the raw window; returns logits (softmax them for weights).</summary>
public sealed class ClassicGate : Module<Tensor, Tensor>
{
    private readonly Linear gate;

    public ClassicGate(int experts, int windowSamples = 48000) : base("classic_gate")
    {
        Experts = experts;
        gate = Linear(windowSamples, experts);
        RegisterComponents();
    }

    public int Experts { get; }

    public override Tensor forward(Tensor waveform) => gate.forward(waveform);
}
