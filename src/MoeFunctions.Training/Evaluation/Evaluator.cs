using System.Text;
using System.Text.Json;
using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Training.Data;

namespace MoeFunctions.Training.Evaluation;

/// <summary>EER and minDCF of one system on one set of files, with bootstrap 95 % intervals.</summary>
public sealed record MetricRow(string System, string Scoring, string Domain, int Files, double Eer, double EerLow, double EerHigh,
    double MinDcf, double MinDcfLow, double MinDcfHigh);

/// <summary>Where a file's windows sit in the list <see cref="Evaluator.CutAsScan"/> returns: its speech windows, then its middle window.</summary>
public sealed record FileWindows(int Start, int Count, int Middle);

/// <summary>
/// One group of a domain's files against the domain's other class (whole file): <paramref name="Class"/> "spoof" is a
/// generator's fakes against all the domain's bona fide files (ASVspoof's per-attack EER), "bonafide" a source's real
/// files against all the domain's fakes. <paramref name="Against"/> counts the other class.
/// </summary>
public sealed record GroupRow(string System, string Domain, string Class, string Group, int Files, int Against, double Eer, double EerLow, double EerHigh);

public sealed record EvaluationReport(string Bundle, string Manifest, string Split, IReadOnlyList<MetricRow> Rows, string Notes,
    IReadOnlyList<GroupRow>? Groups = null, IReadOnlyList<RoutingRow>? Routing = null);

/// <summary>
/// Where one gate sends one domain's windows (the speech windows of whole files): the share whose largest weight is on
/// the expert trained on that domain, and the mean weight it gets. A random pick would put a share of 1/E on it.
/// </summary>
public sealed record RoutingRow(string Gate, string Domain, string Expert, int Windows, double TopWeightOnOwn, double MeanWeightOnOwn);

/// <summary>
/// `moe eval`: scores a manifest split with a bundle through the scanner's <see cref="MoeScorer"/> and reports every
/// single expert, the uniform ensemble, the classic MoE (sparse top-1, top-2, dense, cascade) and the enhanced MoE
/// (dense, and its top-1 / top-2 / cascade fusion), per domain and pooled. Two scorings: whole file (every 3 s window at the
/// bundle's hop, short files tiled, file score = <see cref="FileAggregator.FileProbability"/> of the window scores) and
/// the reference's single middle window. Then, per domain, each spoof generator and each bona fide source against the
/// domain's other class (<see cref="ByGroup"/>), for the default routing and each domain's own expert.
/// Window scores are the uncalibrated fused P(spoof) (calibration is monotonic per window).
/// </summary>
public static class Evaluator
{
    private const int WindowSamples = ModelNames.WindowSamples;

    public static EvaluationReport Evaluate(string bundleDir, string manifestPath, string split = "test", int bootstrap = 1000, Action<string>? log = null,
        ExpertPrecision precision = ExpertPrecision.Fp32)
    {
        log ??= Console.WriteLine;
        var bundle = ModelBundle.Load(bundleDir);
        var manifest = CorpusManifest.Load(manifestPath);
        var entries = manifest.Select(split: split).ToList();
        if (entries.Count == 0) throw new InvalidOperationException($"no '{split}' files in {manifest.Root}");
        var clips = ClipStore.Load(manifest, entries);
        log($"evaluating {clips.Count} {split} files with {bundleDir}{(precision == ExpertPrecision.Int8 ? " (INT8 experts)" : "")}");

        var (windows, fileWindows) = CutAsScan(bundle, manifest, clips);
        int noSpeech = fileWindows.Count(f => f.Count == 0);
        if (noSpeech > 0) log($"{noSpeech} of {clips.Count} files have no speech window (NotApplicable in a scan)");

        var systems = new Dictionary<string, double[]>();
        int e = bundle.ExpertCount;
        var routing = new List<RoutingRow>();
        var fileDomains = clips.Select(c => c.Entry.Domain).ToList();
        using (var dense = new MoeScorer(bundle, new ScorerOptions { Precision = precision, Mode = RoutingMode.Dense, Gate = GateKind.Classic }))
        {
            var scores = ScoreAll(dense, windows);
            routing.AddRange(Routing("classic", scores, fileWindows, fileDomains, bundle.Manifest.Experts));
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
        using (var cascade = new MoeScorer(bundle, new ScorerOptions { Precision = precision, Mode = RoutingMode.Cascade, Gate = GateKind.Classic }))
            systems["classic MoE cascade"] = ScoreAll(cascade, windows).Select(s => 1.0 - s.FusedBonafide).ToArray();
        if (bundle.Manifest.Gates.Enhanced is not null)
            using (var enhanced = new MoeScorer(bundle, new ScorerOptions { Precision = precision, Mode = RoutingMode.Dense, Gate = GateKind.Enhanced }))
            {
                // The enhanced gate reads every expert's embedding, so its top-k and cascade rows save no compute: they show
                // what keeping only the gate's k largest weights, or the cascade's stop rule, does to accuracy, as the issue
                // asks of both MoEs.
                var scores = ScoreAll(enhanced, windows);
                routing.AddRange(Routing("enhanced", scores, fileWindows, fileDomains, bundle.Manifest.Experts));
                systems["enhanced MoE top-1 fusion"] = scores.Select(s => TopK(s, 1)).ToArray();
                if (e >= 2) systems["enhanced MoE top-2 fusion"] = scores.Select(s => TopK(s, 2)).ToArray();
                systems["enhanced MoE dense"] = scores.Select(s => 1.0 - s.FusedBonafide).ToArray();
                systems["enhanced MoE cascade fusion"] = scores.Select(s => 1.0 - enhanced.CascadeOver(s).FusedBonafide).ToArray();
            }

        double[] FileScores(double[] w, bool whole) => Evaluator.FileScores(w, fileWindows, whole);
        var rows = new List<MetricRow>();
        var domains = clips.Select(c => c.Entry.Domain).Distinct().Order(StringComparer.Ordinal).Append("pooled").ToList();
        foreach (var (name, w) in systems)
            foreach (var scoring in new[] { "whole file", "middle window" })
            {
                var fileScores = FileScores(w, scoring == "whole file");
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
        // Per generator and per bona fide source, for the bundle's default system and for each domain's own expert.
        var scoredEntries = clips.Select(c => c.Entry).ToList();
        var groups = new List<GroupRow>();
        if (DefaultSystem(bundle.Manifest.Routing) is { } def && systems.TryGetValue(def, out var defScores))
            groups.AddRange(ByGroup(def, FileScores(defScores, whole: true), scoredEntries, bootstrap));
        foreach (var expert in bundle.Manifest.Experts)
            if (systems.TryGetValue($"expert {expert.Name}", out var w))
                groups.AddRange(ByGroup($"expert {expert.Name}", FileScores(w, whole: true), scoredEntries, bootstrap).Where(g => g.Domain == expert.Domain));

        return new EvaluationReport(Path.GetFullPath(bundleDir), Path.GetFullPath(manifestPath), split, rows,
            (precision == ExpertPrecision.Int8 ? "Experts: INT8 convolutions quantized at load from the bundle's calibration (`--precision int8`). " : "") +
            $"Whole file: the scanner's decoder and windows (3 s at the bundle's hop, short files tiled, last window end-aligned), speech windows only, " +
            $"file score = mean of the top third of window scores; {noSpeech} of {clips.Count} files had no speech window and are left out of the whole-file rows. " +
            "Scores are uncalibrated fused P(spoof). minDCF: P(spoof) 0.05, C_miss 1, C_fa 10. 95 % CIs: percentile bootstrap over files (1000 resamples, seed 1).",
            groups, routing);
    }

    /// <summary>Per domain with an expert: where <paramref name="gate"/>'s weights put that domain's speech windows.</summary>
    public static IEnumerable<RoutingRow> Routing(string gate, IReadOnlyList<WindowScore> scores, IReadOnlyList<FileWindows> files,
        IReadOnlyList<string> fileDomains, IReadOnlyList<ExpertEntry> experts)
    {
        for (int own = 0; own < experts.Count; own++)
        {
            var weights = Enumerable.Range(0, files.Count).Where(i => fileDomains[i] == experts[own].Domain)
                .SelectMany(i => Enumerable.Range(files[i].Start, files[i].Count)).Select(w => scores[w].GateWeights).ToList();
            if (weights.Count == 0) continue;
            int o = own;
            double top = weights.Average(w => Enumerable.Range(0, w.Length).All(e => e == o || w[e] < w[o]) ? 1.0 : 0.0);
            yield return new RoutingRow(gate, experts[own].Domain, experts[own].Name, weights.Count, top, weights.Average(w => (double)w[o]));
        }
    }

    /// <summary>
    /// Every file's windows, cut the way `moe scan` cuts them: the scanner's decoder and windower (bundle window and hop,
    /// short files tiled, last window end-aligned), and only the windows its speech detector keeps; then the reference's
    /// middle window of the same file. A file without a speech window has no whole-file score (the scanner calls it
    /// NotApplicable): its <see cref="FileWindows.Count"/> is 0.
    /// </summary>
    public static (List<float[]> Windows, List<FileWindows> Files) CutAsScan(ModelBundle bundle, CorpusManifest manifest, IReadOnlyList<Clip> clips)
    {
        var windows = new List<float[]>();
        var files = new List<FileWindows>();
        var windowOptions = new WindowOptions(bundle.Manifest.WindowSamples, bundle.Manifest.DefaultHopSamples);
        foreach (var c in clips)
        {
            int start = windows.Count;
            using (var source = MediaDecoder.OpenFile(manifest.FullPath(c.Entry)))
                foreach (var w in Windower.Split(source, windowOptions))
                    if (w.IsSpeech) windows.Add(w.Samples);
            int count = windows.Count - start;
            windows.Add(ClipStore.MiddleWindow(c.Samples));
            files.Add(new FileWindows(start, count, windows.Count - 1));
        }
        return (windows, files);
    }

    /// <summary>Per file: the scanner's file score over its speech windows (NaN without one), or the middle window's score.</summary>
    public static double[] FileScores(IReadOnlyList<double> windowScores, IReadOnlyList<FileWindows> files, bool wholeFile) =>
        files.Select(f => !wholeFile ? windowScores[f.Middle]
            : f.Count == 0 ? double.NaN : FileAggregator.FileProbability(Enumerable.Range(f.Start, f.Count).Select(i => windowScores[i]))).ToArray();

    /// <summary>The system row that is the bundle's default routing (null for a sparse top-k this report does not compute).</summary>
    public static string? DefaultSystem(RoutingDefaults routing) => routing.Mode switch
    {
        RoutingMode.Dense => routing.Gate == GateKind.Enhanced ? "enhanced MoE dense" : "classic MoE dense",
        RoutingMode.Cascade => "classic MoE cascade", // the scanner's cascade always routes with the classic gate
        RoutingMode.Sparse when routing.TopK is 1 or 2 => $"classic MoE sparse top-{routing.TopK}",
        _ => null,
    };

    /// <summary>
    /// Per domain: each spoof generator (the manifest's generator up to its first ':', the engine without its voice) against
    /// all the domain's bona fide files, and each bona fide source against all the domain's spoof files. Files without a
    /// score (NaN: no speech window) are left out.
    /// </summary>
    public static IReadOnlyList<GroupRow> ByGroup(string system, IReadOnlyList<double> fileScores, IReadOnlyList<CorpusEntry> entries, int bootstrap)
    {
        var rows = new List<GroupRow>();
        var scored = Enumerable.Range(0, entries.Count).Where(i => !double.IsNaN(fileScores[i])).ToList();
        foreach (var domain in scored.Select(i => entries[i].Domain).Distinct().Order(StringComparer.Ordinal))
        {
            var inDomain = scored.Where(i => entries[i].Domain == domain).ToList();
            foreach (bool spoof in new[] { true, false })
            {
                var against = inDomain.Where(i => entries[i].Spoof != spoof).ToList();
                if (against.Count == 0) continue;
                string GroupOf(int i) => spoof ? entries[i].Generator.Split(':')[0] : entries[i].Source;
                foreach (var group in inDomain.Where(i => entries[i].Spoof == spoof).GroupBy(GroupOf).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var idx = group.Concat(against).ToList();
                    var s = idx.Select(i => fileScores[i]).ToList();
                    var y = idx.Select(i => entries[i].Spoof).ToList();
                    var (low, high) = Metrics.Bootstrap(s, y, Metrics.Eer, bootstrap);
                    rows.Add(new GroupRow(system, domain, spoof ? "spoof" : "bonafide", group.Key, group.Count(), against.Count, Metrics.Eer(s, y), low, high));
                }
            }
        }
        return rows;
    }

    private static IReadOnlyList<WindowScore> ScoreAll(MoeScorer scorer, List<float[]> windows)
    {
        var result = new List<WindowScore>(windows.Count);
        for (int i = 0; i < windows.Count; i += 64) result.AddRange(scorer.Score(windows.GetRange(i, Math.Min(64, windows.Count - i))));
        return result;
    }

    /// <summary>Sparse top-k fusion from dense outputs: renormalised top-k gate weights times the experts' P(spoof).</summary>
    /// <summary>P(spoof) fused over the gate's k largest weights, renormalised (the scanner's sparse fusion); needs every expert's output.</summary>
    public static double TopK(WindowScore s, int k) => BundleBuilder.TopKFusion(s.GateWeights, e => 1.0 - s.ExpertBonafide[e], k);

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
        if (r.Routing is { Count: > 0 } routing)
        {
            sb.AppendLine("## Routing (speech windows of whole files): share whose largest gate weight is on the domain's own expert / mean weight on it").AppendLine();
            var gates = routing.Select(x => x.Gate).Distinct().ToList();
            sb.AppendLine("| domain | own expert | windows | " + string.Join(" | ", gates.Select(g => $"{g} gate")) + " |");
            sb.AppendLine("|---|---|---:|" + string.Concat(gates.Select(_ => "---|")));
            foreach (var d in routing.Select(x => (x.Domain, x.Expert, x.Windows)).Distinct())
                sb.AppendLine($"| {d.Domain} | {d.Expert} | {d.Windows} | " + string.Join(" | ", gates.Select(g =>
                    routing.FirstOrDefault(x => x.Gate == g && x.Domain == d.Domain) is { } x ? $"{100 * x.TopWeightOnOwn:F1} % / {x.MeanWeightOnOwn:F2}" : "–")) + " |");
            sb.AppendLine();
        }
        if (r.Groups is { Count: > 0 } groups)
        {
            // The default system has every domain's groups; each expert has its own domain's only. A default routing the
            // report does not compute (sparse top-3 and up) leaves the experts alone.
            const string Expert = "expert ";
            string? main = groups.Select(g => g.System).FirstOrDefault(n => !n.StartsWith(Expert, StringComparison.Ordinal));
            sb.AppendLine("## By generator and by bona fide source (whole file): EER % [95 % CI]").AppendLine();
            sb.AppendLine("Each spoof generator's files against all bona fide files of its domain, and each bona fide source's files against all");
            sb.AppendLine("spoof files of its domain. Groups of a few files have wide intervals.").AppendLine();
            sb.AppendLine($"| domain | class | group | files (against) | {main ?? "default routing (not computed)"} | the domain's own expert |");
            sb.AppendLine("|---|---|---|---:|---|---|");
            static string Cell(GroupRow? g) => g is null ? "–" : $"{100 * g.Eer:F2} [{100 * g.EerLow:F1}, {100 * g.EerHigh:F1}]";
            foreach (var key in groups.Select(g => (g.Domain, g.Class, g.Group, g.Files, g.Against)).Distinct())
            {
                var inGroup = groups.Where(x => (x.Domain, x.Class, x.Group) == (key.Domain, key.Class, key.Group)).ToList();
                var own = inGroup.FirstOrDefault(x => x.System.StartsWith(Expert, StringComparison.Ordinal));
                sb.AppendLine($"| {key.Domain} | {key.Class} | {key.Group} | {key.Files} ({key.Against}) | {Cell(inGroup.FirstOrDefault(x => x.System == main))} | " +
                              $"{(own is null ? "–" : $"{Cell(own)} ({own.System[Expert.Length..]})")} |");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public static string Json(EvaluationReport r) => JsonSerializer.Serialize(r, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
