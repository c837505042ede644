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
    public (Tensor Logits, Tensor Embedding) Logits(Tensor x) => Logits(x, null);

    /// <param name="beforeNorm">Sees each batch norm's input (for <see cref="RefitBatchNorms"/>).</param>
    private (Tensor Logits, Tensor Embedding) Logits(Tensor x, Action<Module<Tensor, Tensor>, Tensor>? beforeNorm)
    {
        using var scope = NewDisposeScope();
        Tensor Norm(Module<Tensor, Tensor> bn, Tensor input)
        {
            beforeNorm?.Invoke(bn, input);
            return bn.forward(input);
        }
        x = functional.max_pool2d(Mfm(conv1.forward(x)), 2);
        x = Norm(bn4, Mfm(conv4.forward(x)));
        x = Norm(bn7, functional.max_pool2d(Mfm(conv7.forward(x)), 2));
        x = Norm(bn11, Mfm(conv11.forward(x)));
        x = functional.max_pool2d(Mfm(conv14.forward(x)), 2);
        x = Norm(bn17, Mfm(conv17.forward(x)));
        x = Norm(bn20, Mfm(conv20.forward(x)));
        x = Norm(bn23, Mfm(conv23.forward(x)));
        x = Mfm(conv26.forward(x));
        x = functional.adaptive_max_pool2d(x, new long[] { 16, 8 }).flatten(1);
        var embedding = Mfm(fc1.forward(x));
        var logits = fc2.forward(Norm(bn_fc, embedding));
        return (logits.MoveToOuterDisposeScope(), embedding.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Weights read back from ONNX have each batch norm folded to a scale and a shift (running mean 0, variance 1 - eps):
    /// right in eval mode, but training normalises by batch statistics, which would then throw the learned function away.
    /// This measures each batch norm's input mean and variance over <paramref name="featureBatches"/> (log-mel batches,
    /// eval mode) and rewrites its weight, bias and running statistics so that eval mode computes the same function and
    /// training mode starts close to it. Returns the number of windows measured.
    /// </summary>
    public int RefitBatchNorms(IEnumerable<Tensor> featureBatches)
    {
        var norms = new (Module<Tensor, Tensor> Module, string Name)[]
            { (bn4, "bn4"), (bn7, "bn7"), (bn11, "bn11"), (bn17, "bn17"), (bn20, "bn20"), (bn23, "bn23"), (bn_fc, "bn_fc") };
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sums = new Dictionary<Module<Tensor, Tensor>, (Tensor Sum, Tensor SumSq, long Count)>();
        int windows = 0;
        eval();
        foreach (var batch in featureBatches)
        {
            windows += (int)batch.shape[0];
            Logits(batch, (bn, input) =>
            {
                // Per channel (axis 1) over every other axis, in double; kept in this method's scope, not Logits'.
                var dims = Enumerable.Range(0, (int)input.dim()).Where(d => d != 1).Select(d => (long)d).ToArray();
                var x = input.to_type(ScalarType.Float64);
                var sum = x.sum(dims);
                var sumSq = (x * x).sum(dims);
                long count = input.numel() / input.shape[1];
                if (sums.TryGetValue(bn, out var s)) sums[bn] = (s.Sum.add_(sum), s.SumSq.add_(sumSq), s.Count + count);
                else sums[bn] = (sum.MoveToOuterDisposeScope(), sumSq.MoveToOuterDisposeScope(), count);
            });
        }
        if (windows == 0) throw new ArgumentException("no batches to measure", nameof(featureBatches));
        var state = state_dict();
        foreach (var (module, name) in norms)
        {
            var (sum, sumSq, count) = sums[module];
            var mean = sum / count;
            var variance = (sumSq / count - mean * mean).clamp_min(0) * (count / Math.Max(1.0, count - 1)); // unbiased, as BatchNorm keeps it
            Tensor weight = state[$"{name}.weight"], bias = state[$"{name}.bias"], runMean = state[$"{name}.running_mean"], runVar = state[$"{name}.running_var"];
            // Eval mode computes scale * x + shift: keep both, now with the measured statistics.
            var scale = weight.to_type(ScalarType.Float64) / (runVar.to_type(ScalarType.Float64) + ModelNames.BatchNormEps).sqrt();
            var shift = bias.to_type(ScalarType.Float64) - runMean.to_type(ScalarType.Float64) * scale;
            weight.copy_(scale * (variance + ModelNames.BatchNormEps).sqrt());
            bias.copy_(shift + mean * scale);
            runMean.copy_(mean);
            runVar.copy_(variance);
        }
        return windows;
    }
}
