using MoeFunctions.Detection;
using MoeFunctions.Training.Data;
using MoeFunctions.Training.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeFunctions.Training;

/// <summary>
/// Trains a gate together with copies of its experts, end to end, as the reference's train_moe_model.py does: its
/// optimizer takes every parameter of the MoE (the LCNNs are not frozen) on the pooled training data. The product's
/// gates train over frozen experts (<see cref="GateTrainer"/>), so that adding an expert never changes the others; this
/// trainer exists to measure what the joint training, not the gate, contributes to the paper's results. The run folder
/// keeps the whole mixture (best.pt, checkpoints) and, at the end, each part as a run folder of its own:
/// <c>gate/best.pt</c> and <c>expert-{domain}/best.pt</c>, which `moe bundle` takes as gate and experts.
/// Loss: the frozen-expert gate's, negative log of the mixture's probability of the true class. Balanced batches of
/// random crops from the pooled train clips; early stopping on the mixture's dev EER (middle windows).
/// </summary>
public static class JointMoeTrainer
{
    /// <summary>The mixture as one module, so checkpoints and the optimizer see the gate and every expert.</summary>
    private sealed class Mixture : nn.Module
    {
        public readonly nn.Module<Tensor, Tensor> gate;
        public readonly ModuleList<Lcnn> experts;

        public Mixture(nn.Module<Tensor, Tensor> gate, IEnumerable<Lcnn> experts) : base("mixture")
        {
            this.gate = gate;
            this.experts = new ModuleList<Lcnn>(experts.ToArray());
            RegisterComponents();
        }
    }

    /// <param name="expertFiles">Starting weights per expert (.pt, or ONNX with batch norms refitted on its domain's train clips).</param>
    /// <param name="expertDomains">Each expert's domain, in order; names the exported expert runs and the per-domain dev report.</param>
    public static TrainingResult Train(GateKind kind, IReadOnlyList<string> expertFiles, IReadOnlyList<string?> expertDomains,
        IReadOnlyList<Clip> train, IReadOnlyList<Clip> dev, TrainingOptions o)
    {
        torch.set_num_threads(o.Threads);
        torch.random.manual_seed(o.Seed);
        using var frontEnd = new TorchLogMel();
        var experts = new List<Lcnn>();
        for (int i = 0; i < expertFiles.Count; i++)
        {
            var expert = new Lcnn();
            experts.Add(expert);
            // An ONNX expert's batch norms are refitted on its own domain's clips, as `moe train expert --init` refits
            // them; on all clips when the domain is unknown.
            var own = train.Where(c => string.Equals(c.Entry.Domain, expertDomains[i], StringComparison.OrdinalIgnoreCase)).ToList();
            var sampler = new BalancedSampler(own.Any(c => c.Spoof) && own.Any(c => !c.Spoof) ? own : train);
            ExpertTrainer.Initialise(expert, expertFiles[i], frontEnd, sampler, o);
        }
        nn.Module<Tensor, Tensor> gateModule = kind == GateKind.Classic ? new ClassicGate(experts.Count) : new EnhancedGate(experts.Count);
        using var mixture = new Mixture(gateModule, experts);
        var optimizer = torch.optim.AdamW(mixture.parameters(), lr: o.LearningRate, weight_decay: o.WeightDecay);
        var loop = new EpochLoop(mixture, optimizer, o);
        var state = loop.StartOrResume(new RunState { Kind = $"joint-{kind.ToString().ToLowerInvariant()}", Seed = o.Seed },
            saved => $"resumed {o.OutDir} after epoch {saved.EpochsDone}");
        var sampled = new BalancedSampler(train);
        int batches = o.BatchesPerEpoch ?? Math.Max(1, (int)Math.Ceiling(sampled.Count / (double)o.BatchSize));
        o.Log($"{state.Kind}: {experts.Count} experts trained with the gate on {train.Count} pooled train clips, {dev.Count} dev clips, " +
              $"{batches} batches of {o.BatchSize} per epoch");
        var result = loop.Run(state,
            epoch => sampled.Epoch(o.Seed, epoch, o.BatchSize, batches).Select(b => Step(b.Waves, b.Labels)),
            () => GateTrainer.ScoreDev(gateModule, GateTrainer.DevCache(experts, dev, expertDomains), o),
            " - early stop");
        mixture.load(result.BestWeights);
        WriteParts(mixture, expertDomains, o.OutDir);
        return result;

        float Step(float[] waves, long[] labels)
        {
            using var scope = NewDisposeScope();
            var raw = tensor(waves).reshape(o.BatchSize, -1);
            var features = frontEnd.Compute(raw);
            var probs = new List<Tensor>();
            var embeddings = new List<Tensor>();
            foreach (var expert in experts)
            {
                var (logits, embedding) = expert.Logits(features);
                probs.Add(nn.functional.softmax(logits, 1)[.., 1]);
                embeddings.Add(embedding);
            }
            var gateLogits = gateModule.forward(kind == GateKind.Classic ? raw : stack(embeddings, 1));
            var w = nn.functional.softmax(gateLogits, 1);
            var pSpoof = stack(probs, 1);
            var isSpoof = tensor(labels.Select(l => (float)l).ToArray()).unsqueeze(1);
            var pTrue = isSpoof * pSpoof + (1 - isSpoof) * (1 - pSpoof);
            var loss = -((w * pTrue).sum(1) + 1e-7f).log().mean();
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        }
    }

    /// <summary>The best epoch's gate and experts as run folders of their own (best.pt), for `moe bundle`.</summary>
    private static void WriteParts(Mixture mixture, IReadOnlyList<string?> domains, string outDir)
    {
        mixture.gate.save(Path.Combine(GateDir(outDir), Checkpoints.BestWeights));
        for (int i = 0; i < mixture.experts.Count; i++)
            mixture.experts[i].save(Path.Combine(ExpertDir(outDir, domains, i), Checkpoints.BestWeights));
    }

    public static string GateDir(string outDir) => Directory.CreateDirectory(Path.Combine(outDir, "gate")).FullName;

    /// <summary>expert-{domain}, or expert-{position} (1-based) for an expert whose domain is unknown or shared with another.</summary>
    public static string ExpertDir(string outDir, IReadOnlyList<string?> domains, int index)
    {
        var domain = domains[index];
        bool unique = domain is not null && domains.Count(d => string.Equals(d, domain, StringComparison.OrdinalIgnoreCase)) == 1;
        return Directory.CreateDirectory(Path.Combine(outDir, $"expert-{(unique ? domain : (index + 1).ToString())}")).FullName;
    }
}
