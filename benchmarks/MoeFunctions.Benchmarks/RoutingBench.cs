using MoeFunctions.Audio;
using MoeFunctions.Detection;

namespace MoeFunctions.Benchmarks;

/// <summary>Dense, sparse top-2, sparse top-1 and cascade through <see cref="MoeScorer"/> on the corpus's dev split, interleaved round by round.</summary>
public static class RoutingBench
{
    private const int Batch = 32;
    public const string SpinningSuffix = "spinning ORT threads";

    public static void Run(BenchOptions options, BenchReport report, ModelBundle bundle, TextWriter log)
    {
        var manifest = Path.Combine(options.CorpusDirectory, "manifest.csv");
        if (!File.Exists(manifest))
        {
            report.RoutingNote = $"Skipped: no corpus manifest at {manifest} (give `--corpus DIR`).";
            log.WriteLine(report.RoutingNote);
            return;
        }
        var files = DevFiles(options.CorpusDirectory, manifest, options.RoutingMaxFiles);
        if (files.Select(f => f.Spoof).Distinct().Count() < 2)
        {
            report.RoutingNote = $"Skipped: the dev split of {manifest} lacks bona fide or spoof files.";
            log.WriteLine(report.RoutingNote);
            return;
        }

        // Decode once: routing is measured on windows in memory, so decoding does not blur the comparison.
        var windowOptions = new WindowOptions(bundle.Manifest.WindowSamples, bundle.Manifest.DefaultHopSamples);
        var windows = SpeechWindows(files.Select(f => f.Path), windowOptions, options.RoutingWindowsPerFile, out var failed);
        var samples = windows.Select(w => w.Samples).ToArray();

        // Costs are relative to the first row. The sparse modes and the cascade route with the classic gate; the enhanced
        // gate (the shipped bundle's default) needs every expert's embedding, so it only runs dense.
        var modes = new List<(string Name, ScorerOptions Options)>
        {
            ("dense (4 experts, classic gate)", new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Classic }),
            ("sparse top-2", new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2 }),
            ("sparse top-1", new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 1 }),
            ("cascade", new ScorerOptions { Mode = RoutingMode.Cascade }),
        };
        if (bundle.Manifest.Gates.Enhanced is not null)
            modes.Add(("dense (4 experts, enhanced gate)", new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced }));
        // The lever behind the scorer's thread setting: ONNX Runtime's default of spinning workers, one pool per session.
        foreach (var (name, o) in modes.Take(4).ToList())
            modes.Add(($"{name}, {SpinningSuffix}", o with { SpinningThreads = true }));
        var scorers = modes.Select(m => new MoeScorer(bundle, m.Options)).ToArray();
        try
        {
            var speed = modes.Select(_ => new Throughput()).ToArray();
            var roundSeconds = modes.Select(_ => new List<double>()).ToArray();
            var last = new IReadOnlyList<WindowScore>[modes.Count];
            foreach (var s in scorers) s.Score(samples.Take(Math.Min(Batch, samples.Length)).ToArray()); // warm-up
            for (var round = 0; round < options.RoutingRounds; round++)
                for (var m = 0; m < modes.Count; m++)
                {
                    double before = speed[m].Seconds;
                    speed[m].Time(() => { last[m] = ScoreAll(scorers[m], samples); return samples.Length; });
                    roundSeconds[m].Add(speed[m].Seconds - before);
                }

            var denseSecondsPerWindow = 1 / speed[0].PerSecond;
            for (var m = 0; m < modes.Count; m++)
            {
                var fileScores = Enumerable.Range(0, files.Count)
                    .Select(f => (files[f].Spoof, Probs: windows.Select((w, i) => (w.File, i)).Where(x => x.File == f).Select(x => last[m][x.i].SpoofProbability).ToList()))
                    .Where(x => x.Probs.Count > 0)
                    .Select(x => (x.Spoof, Score: FileAggregator.FileProbability(x.Probs)))
                    .ToList();
                var perRound = roundSeconds[m].Zip(roundSeconds[0], (mine, dense) => mine / dense).ToList();
                var row = new RoutingRow(modes[m].Name, speed[m].PerSecond, last[m].Average(s => s.ExpertsRun),
                    (1 / speed[m].PerSecond) / denseSecondsPerWindow, Eer.Compute(fileScores), fileScores.Count, samples.Length,
                    perRound.Min(), perRound.Max());
                report.Routing.Add(row);
                log.WriteLine($"routing {row.Mode}: {row.WindowsPerSecond:F1} w/s, {row.ExpertsPerWindow:F2} experts/window, " +
                              $"cost {row.CostRelativeToDense:P0} (rounds {row.CostRangeMin:P0}-{row.CostRangeMax:P0}), EER {row.PooledEer:P1}");
            }
            report.RoutingNote = $"Bundle '{bundle.Manifest.Name}' {bundle.Manifest.Version} (trained: {bundle.Manifest.Trained.ToString().ToLowerInvariant()}); " +
                                 $"{files.Count} dev files from {manifest} ({string.Join(", ", files.Select(f => f.Domain).Distinct().Order())}), " +
                                 $"{samples.Length} speech windows (at most {options.RoutingWindowsPerFile} per file), {failed} files failed to decode; file score = the scanner's top-third mean of window P(spoof); batches of {Batch}." +
                                 (bundle.Manifest.Trained ? "" : " The bundle is UNTRAINED: its EER is chance level and says nothing about accuracy; rerun with a trained bundle (`--model`).");
        }
        finally { foreach (var s in scorers) s.Dispose(); }
    }

    private static IReadOnlyList<WindowScore> ScoreAll(MoeScorer scorer, float[][] windows)
    {
        var all = new List<WindowScore>(windows.Length);
        for (var i = 0; i < windows.Length; i += Batch) all.AddRange(scorer.Score(windows.AsSpan(i, Math.Min(Batch, windows.Length - i)).ToArray()));
        return all;
    }

    /// <summary>Dev-split rows, taken round-robin over the domains and alternating bona fide and spoof within each, so a
    /// capped list stays balanced and pooled (the manifest is sorted by domain: a plain cap would take only D1).</summary>
    public static List<(string Path, bool Spoof, string Domain)> DevFiles(string root, string manifest, int max)
    {
        var dev = SplitRows(root, manifest, "dev");
        var perDomain = dev.GroupBy(d => d.Domain).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Alternate(g.ToList())).ToList();
        var result = new List<(string, bool, string)>();
        for (var i = 0; result.Count < max && perDomain.Any(d => i < d.Count); i++)
            foreach (var d in perDomain)
                if (i < d.Count && result.Count < max) result.Add(d[i]);
        return result;
    }

    /// <summary>The manifest's rows of one split (path resolved against <paramref name="root"/>); needs path, label and split
    /// columns, in any order and beside others.</summary>
    internal static List<(string Path, bool Spoof, string Domain)> SplitRows(string root, string manifest, string split)
    {
        var lines = File.ReadAllLines(manifest);
        var header = lines[0].Split(',');
        int pi = Array.IndexOf(header, "path"), li = Array.IndexOf(header, "label"), di = Array.IndexOf(header, "domain"), si = Array.IndexOf(header, "split");
        if (pi < 0 || li < 0 || si < 0) throw new InvalidDataException($"{manifest}: needs path, label and split columns");
        return lines.Skip(1).Select(l => l.Split(',')).Where(c => c.Length > Math.Max(pi, Math.Max(li, si)) && c[si] == split)
            .Select(c => (Path: Path.Combine(root, c[pi]), Spoof: !c[li].Equals("bonafide", StringComparison.OrdinalIgnoreCase), Domain: di >= 0 ? c[di] : "?"))
            .ToList();
    }

    /// <summary>Up to <paramref name="perFile"/> speech windows of each file, tagged with the file's position; files that fail to
    /// decode are counted in <paramref name="failed"/> and skipped.</summary>
    internal static List<(int File, float[] Samples)> SpeechWindows(IEnumerable<string> paths, WindowOptions options, int perFile, out int failed)
    {
        var result = new List<(int, float[])>();
        failed = 0;
        var f = 0;
        foreach (var path in paths)
        {
            try
            {
                using var source = MediaDecoder.OpenFile(path);
                foreach (var w in Windower.Split(source, options).Where(w => w.IsSpeech).Take(perFile)) result.Add((f, w.Samples));
            }
            catch (MediaDecodeException) { failed++; }
            f++;
        }
        return result;
    }

    private static List<(string Path, bool Spoof, string Domain)> Alternate(List<(string Path, bool Spoof, string Domain)> rows)
    {
        var real = rows.Where(d => !d.Spoof).ToList();
        var fake = rows.Where(d => d.Spoof).ToList();
        var result = new List<(string, bool, string)>();
        for (var i = 0; i < real.Count || i < fake.Count; i++)
        {
            if (i < real.Count) result.Add(real[i]);
            if (i < fake.Count) result.Add(fake[i]);
        }
        return result;
    }
}

/// <summary>Equal error rate: the point where the false-acceptance and false-rejection rates meet (spoof = positive).</summary>
public static class Eer
{
    public static double Compute(IReadOnlyList<(bool Spoof, double Score)> scores)
    {
        var positives = scores.Count(s => s.Spoof);
        var negatives = scores.Count - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        // Thresholds at every distinct score and above the highest; FAR = real scored >= t, FRR = spoof scored < t.
        double best = 1, bestGap = double.MaxValue;
        foreach (var t in scores.Select(s => s.Score).Distinct().Append(double.PositiveInfinity))
        {
            double far = scores.Count(s => !s.Spoof && s.Score >= t) / (double)negatives;
            double frr = scores.Count(s => s.Spoof && s.Score < t) / (double)positives;
            if (Math.Abs(far - frr) < bestGap) { bestGap = Math.Abs(far - frr); best = (far + frr) / 2; }
        }
        return best;
    }
}
