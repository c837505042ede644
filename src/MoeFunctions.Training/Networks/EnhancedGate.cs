using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using MoeFunctions.Detection;
using TorchSharp;
using TorchSharp.Modules;

namespace MoeFunctions.Training.Networks;

/// <summary>
/// Enhanced gate over the experts' embeddings [N, E, 64] (DESIGN.md section 1); returns logits [N, E].
/// Names: proj{i}, bn_proj, product_scale, fc1, bn1, fc2 (<see cref="ModelNames"/>).
/// </summary>
public sealed class EnhancedGate : Module<Tensor, Tensor>
{
    private readonly Linear[] projections;
    private readonly BatchNorm1d bn_proj;
    private readonly Parameter product_scale;
    private readonly Linear fc1, fc2;
    private readonly Dropout dropout;
    private readonly BatchNorm1d bn1;

    public EnhancedGate(int experts) : base("enhanced_gate")
    {
        Experts = experts;
        projections = new Linear[experts];
        for (int i = 0; i < experts; i++) projections[i] = Linear(64, 32);
        bn_proj = BatchNorm1d(32, eps: ModelNames.BatchNormEps);
        product_scale = Parameter(ones(32));
        fc1 = Linear(32 * (experts + 1), 64);
        dropout = Dropout(0.2);
        bn1 = BatchNorm1d(64, eps: ModelNames.BatchNormEps);
        fc2 = Linear(64, experts);
        for (int i = 0; i < experts; i++) register_module($"proj{i}", projections[i]);
        register_module("bn_proj", bn_proj);
        register_parameter("product_scale", product_scale);
        register_module("fc1", fc1);
        register_module("bn1", bn1);
        register_module("fc2", fc2);
        register_module("dropout", dropout); // no weights, but must follow train()/eval()
    }

    public int Experts { get; }

    public override Tensor forward(Tensor embeddings)
    {
        using var scope = NewDisposeScope();
        // The shared BN sees every expert's projection in one call ([E x batch, 32]): called once per expert, training
        // would normalise each expert by its own batch statistics while the running statistics used at inference mix
        // all experts, so the gate would meet inputs at inference that it never saw in training. At inference both
        // forms are the same per-expert affine map (the ONNX graph does not change).
        var projected = cat(Enumerable.Range(0, Experts).Select(i => projections[i].forward(embeddings.select(1, i))).ToArray(), 0);
        var parts = functional.leaky_relu(bn_proj.forward(projected), ModelNames.LeakySlope).chunk(Experts, 0).ToList();
        var product = parts.Skip(1).Aggregate(parts[0], (p, e) => p * e);
        parts.Add(product * product_scale);
        var h = fc1.forward(cat(parts, 1));
        h = functional.leaky_relu(bn1.forward(dropout.forward(h)), ModelNames.LeakySlope);
        return fc2.forward(h).MoveToOuterDisposeScope();
    }
}
