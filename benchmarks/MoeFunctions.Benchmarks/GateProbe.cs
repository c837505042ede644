using System.Globalization;
using System.Text;
using MoeFunctions.Detection;
using MoeFunctions.Training.Data;
using MoeFunctions.Training.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Benchmarks;

/// <summary>
/// A routing lever, and a measurement for issue 4's open design question: the classic gate's linear map moved from the
/// raw window (DESIGN.md: Linear(48000 -> E)) to per-band statistics of the log-mel features every expert already gets
/// (each mel band's mean and standard deviation over the window). A linear map of raw samples sees each waveform at an
/// arbitrary phase and cannot tell the domains apart; band energies show the telephone band, the codec and the recording.
/// The probe gate is trained here on TRAIN windows as a domain classifier (softmax regression, each domain's label being
/// the expert trained on it) and scored on DEV with the bundle's own experts, beside the bundle's classic and enhanced
/// gates. Nothing of it ships: the bundle format and the scanner are unchanged.
/// </summary>
public static class GateProbe
{
    public sealed record Routing(string Domain, int Windows, double Classic, double Enhanced, double Probe);

    /// <summary>EER per domain and pooled (keys "D1".."pooled"), whole file and middle window.</summary>
    public sealed record Row(string System, IReadOnlyDictionary<string, double> WholeFile, IReadOnlyDictionary<string, double> MiddleWindow);

    public sealed record Report(int TrainWindows, bool Balanced, double TrainAccuracy, int DevFiles, IReadOnlyList<Routing> OwnExpertShare, IReadOnlyList<Row> Rows);

    /// <param name="balanced">Weights each domain's windows inversely to their count in the loss, so a domain with few TRAIN
    /// clips (D1: 350 against D4's 6,879) counts as much as the others.</param>
    public static Report Run(ModelBundle bundle, CorpusManifest manifest, int clipsPerDomain = 300, int seed = 7, TextWriter? log = null, bool balanced = false)
    {
        log ??= TextWriter.Null;
        var frontEnd = new LogMelFrontEnd(bundle.Manifest.FrontEnd);
        int experts = bundle.ExpertCount;
        var expertOf = bundle.Manifest.Experts.Select((x, i) => (x.Domain, i)).ToDictionary(p => p.Domain, p => p.i);
        var domains = manifest.Domains.Where(expertOf.ContainsKey).ToList();
        if (domains.Count == 0) throw new InvalidOperationException("no corpus domain has an expert in the bundle");

        // TRAIN: up to clipsPerDomain clips per domain, half of each class; the middle window and two random crops of each.
        var rng = new Random(seed);
        var trainX = new List<float[]>();
        var trainY = new List<long>();
        foreach (var d in domains)
        {
            var entries = manifest.Select(d, "train").OrderBy(_ => rng.Next()).ToList();
            var picked = entries.Where(e => e.Spoof).Take(clipsPerDomain / 2).Concat(entries.Where(e => !e.Spoof).Take(clipsPerDomain / 2));
            foreach (var clip in ClipStore.Load(manifest, picked))
                foreach (var window in Crops(clip.Samples, rng))
                {
                    trainX.Add(BandStatistics(frontEnd, window));
                    trainY.Add(expertOf[d]);
                }
        }
        if (trainX.Count == 0) throw new InvalidOperationException("no TRAIN files in the corpus");
        var gate = Train(trainX, trainY, experts, seed, balanced);
        double trainAccuracy = trainX.Select((x, i) => ArgMax(gate(x)) == trainY[i]).Average(ok => ok ? 1.0 : 0.0);
        log.WriteLine($"gate probe: {trainX.Count} TRAIN windows, domain accuracy {trainAccuracy:P1}");

        // DEV: cut as `moe scan` cuts files; every expert's output and both gates from the dense scorer.
        var dev = manifest.Select(split: "dev").Where(e => expertOf.ContainsKey(e.Domain)).ToList();
        var clips = ClipStore.Load(manifest, dev);
        var (windows, files) = Evaluator.CutAsScan(bundle, manifest, clips);
        IReadOnlyList<WindowScore> classic, enhanced;
        using (var scorer = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Classic })) classic = scorer.Score(windows);
        using (var scorer = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced })) enhanced = scorer.Score(windows);
        // The experts' outputs under the probe gate's weights: the same fusion and routing measures as the bundle's gates.
        var probe = classic.Select((s, i) => s with { GateWeights = gate(BandStatistics(frontEnd, windows[i])) }).ToList();
        log.WriteLine($"gate probe: {clips.Count} DEV files, {windows.Count} windows scored");

        var fileDomains = clips.Select(c => c.Entry.Domain).ToList();
        List<MoeFunctions.Training.Evaluation.RoutingRow> Route(IReadOnlyList<WindowScore> scores) => Evaluator.Routing("", scores, files, fileDomains, bundle.Manifest.Experts).ToList();
        var (byClassic, byEnhanced) = (Route(classic), Route(enhanced));
        var routing = Route(probe).Select(p => new Routing(p.Domain, p.Windows, byClassic.Single(x => x.Domain == p.Domain).TopWeightOnOwn,
            byEnhanced.Single(x => x.Domain == p.Domain).TopWeightOnOwn, p.TopWeightOnOwn)).ToList();

        var systems = new List<(string, double[])>();
        for (int e = 0; e < experts; e++)
        {
            int k = e;
            systems.Add(($"expert {bundle.Manifest.Experts[e].Name}", classic.Select(s => 1.0 - s.ExpertBonafide[k]).ToArray()));
        }
        systems.Add(("uniform ensemble", classic.Select(s => 1.0 - s.ExpertBonafide.Average(v => (double)v)).ToArray()));
        foreach (var k in new[] { 1, 2, experts })
            systems.Add(($"classic gate (raw window) {Mode(k, experts)}", classic.Select(s => Evaluator.TopK(s, k)).ToArray()));
        foreach (var k in new[] { 1, 2, experts })
            systems.Add(($"probe gate (log-mel band statistics) {Mode(k, experts)}", probe.Select(s => Evaluator.TopK(s, k)).ToArray()));
        systems.Add(("enhanced gate dense", enhanced.Select(s => 1.0 - s.FusedBonafide).ToArray()));

        var rows = systems.Select(s => new Row(s.Item1, Eers(s.Item2, whole: true), Eers(s.Item2, whole: false))).ToList();
        return new Report(trainX.Count, balanced, trainAccuracy, clips.Count, routing, rows);

        Dictionary<string, double> Eers(double[] windowScores, bool whole)
        {
            var fileScores = Evaluator.FileScores(windowScores, files, whole);
            var eers = new Dictionary<string, double>();
            foreach (var d in domains.Append("pooled"))
            {
                var idx = Enumerable.Range(0, clips.Count).Where(i => (d == "pooled" || clips[i].Entry.Domain == d) && !double.IsNaN(fileScores[i])).ToList();
                var labels = idx.Select(i => clips[i].Spoof).ToList();
                if (labels.Distinct().Count() == 2) eers[d] = Metrics.Eer(idx.Select(i => fileScores[i]).ToList(), labels);
            }
            return eers;
        }
    }

    private static string Mode(int k, int experts) => k == experts ? "dense" : $"top-{k}";

    private static IEnumerable<float[]> Crops(float[] samples, Random rng)
    {
        yield return ClipStore.MiddleWindow(samples);
        for (int c = 0; c < 2; c++)
        {
            var window = new float[ModelNames.WindowSamples];
            ClipStore.CropInto(samples, samples.Length > window.Length ? rng.Next(samples.Length - window.Length) : 0, window);
            yield return window;
        }
    }

    /// <summary>Each mel band's mean and standard deviation over the window's frames: 2 x mels numbers.</summary>
    public static float[] BandStatistics(LogMelFrontEnd frontEnd, float[] window)
    {
        int mels = frontEnd.Mels, frames = frontEnd.Frames;
        var features = new float[frontEnd.OutputLength];
        frontEnd.Compute(window, features);
        var stats = new float[2 * mels];
        for (int m = 0; m < mels; m++)
        {
            var band = features.AsSpan(m * frames, frames);
            double sum = 0, squares = 0;
            foreach (float v in band) { sum += v; squares += (double)v * v; }
            double mean = sum / frames;
            stats[m] = (float)mean;
            stats[mels + m] = (float)Math.Sqrt(Math.Max(0, squares / frames - mean * mean));
        }
        return stats;
    }

    /// <summary>Softmax regression (TorchSharp: one Linear layer, cross-entropy, optionally class-weighted, AdamW, full batch) on standardised
    /// features; returns the gate: statistics -> expert weights.</summary>
    private static Func<float[], float[]> Train(List<float[]> x, List<long> y, int experts, int seed, bool balanced)
    {
        int dims = x[0].Length;
        torch.random.manual_seed(seed);
        using var scope = torch.NewDisposeScope();
        var data = torch.tensor(x.SelectMany(v => v).ToArray(), [x.Count, dims]);
        var mean = data.mean([0]);
        var std = data.std([0]) + 1e-6f;
        var inputs = (data - mean) / std;
        var labels = torch.tensor(y.ToArray());
        var classWeights = Enumerable.Range(0, experts).Select(e => y.Count(v => v == e)).Select(n => balanced && n > 0 ? (float)y.Count / (experts * n) : 1f).ToArray();
        var weight = torch.tensor(classWeights);
        var linear = nn.Linear(dims, experts);
        var optimizer = optim.AdamW(linear.parameters(), lr: 0.05, weight_decay: 1e-3);
        for (int step = 0; step < 600; step++)
        {
            optimizer.zero_grad();
            using var loss = nn.functional.cross_entropy(linear.forward(inputs), labels, weight: weight);
            loss.backward();
            optimizer.step();
        }
        // Fold the standardisation into the weights: W' = W / std, b' = b - W' . mean (what a shipped gate would store).
        using var noGrad = torch.no_grad();
        var weights = (linear.weight! / std).data<float>().ToArray();
        var bias = (linear.bias! - (linear.weight! / std).matmul(mean)).data<float>().ToArray();
        return stats =>
        {
            var logits = new double[experts];
            for (int e = 0; e < experts; e++)
            {
                double z = bias[e];
                for (int j = 0; j < dims; j++) z += weights[e * dims + j] * stats[j];
                logits[e] = z;
            }
            double max = logits.Max(), total = 0;
            for (int e = 0; e < experts; e++) total += logits[e] = Math.Exp(logits[e] - max);
            return logits.Select(v => (float)(v / total)).ToArray();
        };
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    public static string Markdown(Report r)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"Probe gate trained on {r.TrainWindows} TRAIN windows{(r.Balanced ? ", domains weighted equally" : "")} (domain accuracy {100 * r.TrainAccuracy:F1} %); {r.DevFiles} DEV files.").AppendLine();
        sb.AppendLine("| domain | DEV windows | classic gate (raw window) | enhanced gate | probe gate (log-mel band statistics) |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var o in r.OwnExpertShare)
            sb.AppendLine(inv, $"| {o.Domain} | {o.Windows} | {100 * o.Classic:F1} % | {100 * o.Enhanced:F1} % | {100 * o.Probe:F1} % |");
        sb.AppendLine().AppendLine("(share of each domain's DEV windows whose largest gate weight is on that domain's own expert)").AppendLine();
        var keys = r.Rows[0].WholeFile.Keys.ToList();
        sb.AppendLine("| system | " + string.Join(" | ", keys.Select(k => $"{k} whole file")) + " | pooled middle window |");
        sb.AppendLine("| --- |" + string.Concat(keys.Select(_ => " ---: |")) + " ---: |");
        foreach (var row in r.Rows)
        {
            sb.Append(inv, $"| {row.System} |");
            foreach (var k in keys) sb.Append(row.WholeFile.TryGetValue(k, out var v) ? string.Create(inv, $" {100 * v:F2} % |") : " - |");
            sb.AppendLine(row.MiddleWindow.TryGetValue("pooled", out var m) ? string.Create(inv, $" {100 * m:F2} % |") : " - |");
        }
        return sb.ToString();
    }
}
