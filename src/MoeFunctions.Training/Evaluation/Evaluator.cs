using System.Text;
using System.Text.Json;
using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Training.Data;

namespace MoeFunctions.Training.Evaluation;

/// <summary>EER and minDCF of one system on one set of files, with bootstrap 95 % intervals.</summary>
public sealed record MetricRow(string System, string Scoring, string Domain, int Files, double Eer, double EerLow, double EerHigh,
    double MinDcf, double MinDcfLow, double MinDcfHigh);

public sealed record EvaluationReport(string Bundle, string Manifest, string Split, IReadOnlyList<MetricRow> Rows, string Notes);

/// <summary>
/// `moe eval`: scores a manifest split with a bundle through the scanner's <see cref="MoeScorer"/> and reports every
/// single expert, the uniform ensemble, the classic MoE (sparse top-1, top-2, dense, cascade) and the enhanced MoE
/// (dense, and its top-1 / top-2 fusion), per domain and pooled. Two scorings: whole file (every 3 s window at the
/// bundle's hop, short files tiled, file score = <see cref="FileAggregator.FileProbability"/> of the window scores) and
/// the reference's single middle window.
/// Window scores are the uncalibrated fused P(spoof) (calibration is monotonic per window).
/// </summary>
public static class Evaluator
{
    private const int WindowSamples = ModelNames.WindowSamples;

    public static EvaluationReport Evaluate(string bundleDir, string manifestPath, string split = "test", int bootstrap = 1000, Action<string>? log = null)
    {
        log ??= Console.WriteLine;
        var bundle = ModelBundle.Load(bundleDir);
        var manifest = CorpusManifest.Load(manifestPath);
        var entries = manifest.Select(split: split).ToList();
        if (entries.Count == 0) throw new InvalidOperationException($"no '{split}' files in {manifest.Root}");
        var clips = ClipStore.Load(manifest, entries);
        log($"evaluating {clips.Count} {split} files with {bundleDir}");

        // Windows of every file, cut the way `moe scan` cuts them: the scanner's decoder and windower (bundle window and
        // hop, short files tiled, last window end-aligned), and only the windows its speech detector keeps. Then the
        // reference's middle window of the same file. A file without a speech window has no whole-file score (the scanner
        // calls it NotApplicable); it is counted and left out of the whole-file rows only.
        var windows = new List<float[]>();
        var fileWindows = new List<(int Start, int Count, int Middle)>();
        var windowOptions = new WindowOptions(bundle.Manifest.WindowSamples, bundle.Manifest.DefaultHopSamples);
        int noSpeech = 0;
        foreach (var c in clips)
        {
            int start = windows.Count;
            using (var source = MediaDecoder.OpenFile(manifest.FullPath(c.Entry)))
                foreach (var w in Windower.Split(source, windowOptions))
                    if (w.IsSpeech) windows.Add(w.Samples);
            int count = windows.Count - start;
            if (count == 0) noSpeech++;
            windows.Add(ClipStore.MiddleWindow(c.Samples));
            fileWindows.Add((start, count, windows.Count - 1));
        }
        if (noSpeech > 0) log($"{noSpeech} of {clips.Count} files have no speech window (NotApplicable in a scan)");

        var systems = new Dictionary<string, double[]>();
        int e = bundle.ExpertCount;
        using (var dense = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Classic }))
        {
            var scores = ScoreAll(dense, windows);
            for (int k = 0; k < e; k++)
            {
                int kk = k;
                systems[$"expert {bundle.Manifest.Experts[k].Name}"] = scores.Select(s => 1.0 - s.ExpertBonafide[kk]).ToArray();
            }
            systems["uniform ensemble"] = scores.Select(s => 1.0 - s.ExpertBonafide.Average(v => (double)v)).ToArray();
            systems["classic MoE sparse top-1"] = scores.Select(s => TopK(s, 1)).ToArray();
            if (e >= 2) systems["classic MoE sparse top-2"] = scores.Select(s => TopK(s, 2)).ToArray();
            systems["classic MoE dense"] = scores.Select(s => 1.0 - s.FusedBonafide).ToArray();
        }
        using (var cascade = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Cascade, Gate = GateKind.Classic }))
            systems["classic MoE cascade"] = ScoreAll(cascade, windows).Select(s => 1.0 - s.FusedBonafide).ToArray();
        if (bundle.Manifest.Gates.Enhanced is not null)
            using (var enhanced = new MoeScorer(bundle, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced }))
            {
                // The enhanced gate reads every expert's embedding, so its top-k rows save no compute: they show what
                // keeping only the gate's k largest weights does to accuracy, as the issue asks of both MoEs.
                var scores = ScoreAll(enhanced, windows);
                systems["enhanced MoE top-1 fusion"] = scores.Select(s => TopK(s, 1)).ToArray();
                if (e >= 2) systems["enhanced MoE top-2 fusion"] = scores.Select(s => TopK(s, 2)).ToArray();
                systems["enhanced MoE dense"] = scores.Select(s => 1.0 - s.FusedBonafide).ToArray();
            }

        var rows = new List<MetricRow>();
        var domains = clips.Select(c => c.Entry.Domain).Distinct().Order(StringComparer.Ordinal).Append("pooled").ToList();
        foreach (var (name, w) in systems)
            foreach (var scoring in new[] { "whole file", "middle window" })
            {
                bool whole = scoring == "whole file";
                var fileScores = fileWindows.Select(f => !whole ? w[f.Middle]
                    : f.Count == 0 ? double.NaN : FileAggregator.FileProbability(Enumerable.Range(f.Start, f.Count).Select(i => w[i]))).ToArray();
                foreach (var d in domains)
                {
                    var idx = Enumerable.Range(0, clips.Count)
                        .Where(i => (d == "pooled" || clips[i].Entry.Domain == d) && !double.IsNaN(fileScores[i])).ToArray();
                    var s = idx.Select(i => fileScores[i]).ToList();
                    var y = idx.Select(i => clips[i].Spoof).ToList();
                    if (!y.Any(v => v) || y.All(v => v)) continue;
                    var (el, eh) = Metrics.Bootstrap(s, y, Metrics.Eer, bootstrap);
                    var (dl, dh) = Metrics.Bootstrap(s, y, (a, b) => Metrics.MinDcf(a, b), bootstrap);
                    rows.Add(new MetricRow(name, scoring, d, idx.Length, Metrics.Eer(s, y), el, eh, Metrics.MinDcf(s, y), dl, dh));
                }
            }
        return new EvaluationReport(Path.GetFullPath(bundleDir), Path.GetFullPath(manifestPath), split, rows,
            $"Whole file: the scanner's decoder and windows (3 s at the bundle's hop, short files tiled, last window end-aligned), speech windows only, " +
            $"file score = mean of the top third of window scores; {noSpeech} of {clips.Count} files had no speech window and are left out of the whole-file rows. " +
            "Scores are uncalibrated fused P(spoof). minDCF: P(spoof) 0.05, C_miss 1, C_fa 10. 95 % CIs: percentile bootstrap over files (1000 resamples, seed 1).");
    }

    private static IReadOnlyList<WindowScore> ScoreAll(MoeScorer scorer, List<float[]> windows)
    {
        var result = new List<WindowScore>(windows.Count);
        for (int i = 0; i < windows.Count; i += 64) result.AddRange(scorer.Score(windows.GetRange(i, Math.Min(64, windows.Count - i))));
        return result;
    }

    /// <summary>Sparse top-k fusion from dense outputs: renormalised top-k gate weights times the experts' P(spoof).</summary>
    private static double TopK(WindowScore s, int k) => BundleBuilder.TopKFusion(s.GateWeights, e => 1.0 - s.ExpertBonafide[e], k);

    public static string Markdown(EvaluationReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Evaluation: {r.Split} split").AppendLine();
        sb.AppendLine($"Bundle `{r.Bundle}`, manifest `{r.Manifest}`. {r.Notes}").AppendLine();
        foreach (var scoring in r.Rows.Select(x => x.Scoring).Distinct())
        {
            sb.AppendLine($"## {scoring}: EER % [95 % CI] / minDCF").AppendLine();
            var domains = r.Rows.Select(x => x.Domain).Distinct().ToList();
            sb.AppendLine("| system | " + string.Join(" | ", domains) + " |");
            sb.AppendLine("|---|" + string.Concat(domains.Select(_ => "---|")));
            foreach (var system in r.Rows.Select(x => x.System).Distinct())
            {
                sb.Append($"| {system} |");
                foreach (var d in domains)
                {
                    var m = r.Rows.FirstOrDefault(x => x.System == system && x.Scoring == scoring && x.Domain == d);
                    sb.Append(m is null ? " – |" : $" {100 * m.Eer:F2} [{100 * m.EerLow:F1}, {100 * m.EerHigh:F1}] / {m.MinDcf:F3} |");
                }
                sb.AppendLine();
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public static string Json(EvaluationReport r) => JsonSerializer.Serialize(r, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
