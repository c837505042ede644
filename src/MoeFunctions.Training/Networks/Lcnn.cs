using MoeFunctions.Detection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MoeFunctions.Training.Networks;

/// <summary>
/// The reference LCNN expert (DESIGN.md section 1). Field names are the state_dict names of <see cref="ModelNames"/>,
/// so export is a name-for-name copy. Input [N, 1, 80, 301] log-mel; output (probabilities [N, 2], embedding [N, 64]).
/// </summary>
public sealed class Lcnn : Module<Tensor, (Tensor Probs, Tensor Embedding)>
{
    private readonly Conv2d conv1, conv4, conv7, conv11, conv14, conv17, conv20, conv23, conv26;
    private readonly BatchNorm2d bn4, bn7, bn11, bn17, bn20, bn23;
    private readonly Linear fc1, fc2;
    private readonly BatchNorm1d bn_fc;

    public Lcnn() : base("lcnn")
    {
        conv1 = Conv2d(1, 64, 5, padding: 2);
        conv4 = Conv2d(32, 64, 1);
        bn4 = BatchNorm2d(32, eps: ModelNames.BatchNormEps);
        conv7 = Conv2d(32, 96, 3, padding: 1);
        bn7 = BatchNorm2d(48, eps: ModelNames.BatchNormEps);
        conv11 = Conv2d(48, 96, 1);
        bn11 = BatchNorm2d(48, eps: ModelNames.BatchNormEps);
        conv14 = Conv2d(48, 128, 3, padding: 1);
        conv17 = Conv2d(64, 128, 1);
        bn17 = BatchNorm2d(64, eps: ModelNames.BatchNormEps);
        conv20 = Conv2d(64, 64, 3, padding: 1);
        bn20 = BatchNorm2d(32, eps: ModelNames.BatchNormEps);
        conv23 = Conv2d(32, 64, 1);
        bn23 = BatchNorm2d(32, eps: ModelNames.BatchNormEps);
        conv26 = Conv2d(32, 64, 3, padding: 1);
        fc1 = Linear(4096, 128);
        bn_fc = BatchNorm1d(64, eps: ModelNames.BatchNormEps);
        fc2 = Linear(64, 2);
        RegisterComponents();
    }

    /// <summary>Max-feature-map: element-wise max of the two halves along dimension 1.</summary>
    internal static Tensor Mfm(Tensor x)
    {
        var halves = x.chunk(2, 1);
        return torch.maximum(halves[0], halves[1]);
    }

    public override (Tensor Probs, Tensor Embedding) forward(Tensor x)
    {
        var (logits, embedding) = Logits(x);
        using (logits) return (functional.softmax(logits, 1), embedding);
    }

    /// <summary>Logits for training (cross-entropy); forward() is its softmax.</summary>
    public (Tensor Logits, Tensor Embedding) Logits(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = functional.max_pool2d(Mfm(conv1.forward(x)), 2);
        x = bn4.forward(Mfm(conv4.forward(x)));
        x = bn7.forward(functional.max_pool2d(Mfm(conv7.forward(x)), 2));
        x = bn11.forward(Mfm(conv11.forward(x)));
        x = functional.max_pool2d(Mfm(conv14.forward(x)), 2);
        x = bn17.forward(Mfm(conv17.forward(x)));
        x = bn20.forward(Mfm(conv20.forward(x)));
        x = bn23.forward(Mfm(conv23.forward(x)));
        x = Mfm(conv26.forward(x));
        x = functional.adaptive_max_pool2d(x, new long[] { 16, 8 }).flatten(1);
        var embedding = Mfm(fc1.forward(x));
        var logits = fc2.forward(bn_fc.forward(embedding));
        return (logits.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }
}
