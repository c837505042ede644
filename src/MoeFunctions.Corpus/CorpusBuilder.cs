using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MoeFunctions.Corpus;

/// <summary>
/// Runs the planned jobs (bona fide first, since rate-matched fakes need their partner's duration), at most
/// <see cref="CorpusOptions.Parallelism"/> at a time, and writes manifests and the summary. Each finished job
/// leaves a small record under .state/, so a rerun skips it (resumable); all randomness comes from the seed and
/// the job id, so order and parallelism do not change the result (deterministic).
/// </summary>
public sealed class CorpusBuilder(CorpusOptions o, TextWriter? log = null)
{
    readonly TextWriter _log = log ?? Console.Out;
    string StateDir => Path.Combine(o.Output, ".state");

    public sealed record Result(List<ManifestRow> Rows, List<string> Failures, string Summary);

    public Result Build(IProgress<(int Done, int Total)>? progress = null)
    {
        var jobs = new Planner(o).PlanAll();
        Directory.CreateDirectory(StateDir);
        var durations = new ConcurrentDictionary<string, double>();
        var failures = new ConcurrentBag<string>();
        int done = 0, total = jobs.Count;
        var sw = Stopwatch.StartNew();
        _log.WriteLine($"corpus: {total} jobs planned ({string.Join(", ", jobs.GroupBy(j => j.Domain).Select(g => $"{g.Key} {g.Count()}"))}) -> {Path.GetFullPath(o.Output)}");
        var finished = new List<ManifestRow>();
        string summary = "";
        // Domain by domain, so a usable manifest of the finished domains exists early in a long build.
        foreach (var domain in o.Domains)
        {
            // Chunks of ~600 bona fide items with their fakes; the manifests are rewritten after each chunk, so a
            // long domain is usable (and balanced) long before it is finished.
            var domainJobs = jobs.Where(j => j.Domain == domain).ToList();
            var reals = domainJobs.Where(j => j.Label == "bonafide").ToList();
            var fakes = domainJobs.Where(j => j.Label == "spoof").ToList();
            int chunks = Math.Max(1, (reals.Count + 599) / 600);
            var realChunk = reals.Select((j, i) => (j.Id, C: (int)((long)i * chunks / Math.Max(1, reals.Count)))).ToDictionary(x => x.Id, x => x.C);
            int FakeChunk(CorpusJob j, int i) =>
                j.PairId is not null && realChunk.TryGetValue(j.PairId, out var c) ? c : (int)((long)i * chunks / Math.Max(1, fakes.Count));
            var fakeChunks = fakes.Select((j, i) => (j, C: FakeChunk(j, i))).ToList();
            for (int c = 0; c < chunks; c++)
            {
                foreach (var batch in new[] { reals.Where(j => realChunk[j.Id] == c), fakeChunks.Where(x => x.C == c).Select(x => x.j) })
                {
                    Parallel.ForEach(batch, new ParallelOptions { MaxDegreeOfParallelism = o.Parallelism }, job =>
                    {
                        try
                        {
                            var rows = RunJob(job, durations);
                            durations[job.Id] = rows.Sum(r => r.DurationS);
                        }
                        catch (Exception e) when (e is ToolFailedException or TimeoutException or FormatException or IOException or InvalidOperationException)
                        {
                            failures.Add($"{job.Id}: {e.Message}");
                        }
                        int d = Interlocked.Increment(ref done);
                        progress?.Report((d, total));
                        if (d % 200 == 0 || d == total)
                            lock (_log) _log.WriteLine($"corpus: {d}/{total} jobs ({domain} {job.Label}), {sw.Elapsed:hh\\:mm\\:ss} elapsed, {failures.Count} failed");
                    });
                }
                if (c < chunks - 1) WriteSoFar(finished.Concat(Rows(domainJobs)).ToList(), $"{domain} chunk {c + 1}/{chunks}");
            }
            finished.AddRange(Rows(domainJobs));
            summary = WriteSoFar(finished, $"{domain} done");
        }
        var rows = finished;
        var failList = failures.OrderBy(f => f, StringComparer.Ordinal).ToList();
        File.WriteAllLines(Path.Combine(o.Output, "failures.txt"), failList);
        return new Result(rows, failList, summary);
    }

    List<ManifestRow> Rows(IEnumerable<CorpusJob> js) => js.SelectMany(j => ReadState(j) ?? []).ToList();

    /// <summary>Writes the per-domain and combined manifests and the summary of what is finished.</summary>
    string WriteSoFar(List<ManifestRow> rows, string what)
    {
        rows.Sort((a, b) => StringComparer.Ordinal.Compare(a.Path, b.Path));
        foreach (var d in rows.Select(r => r.Domain).Distinct())
            Manifest.Write(Path.Combine(o.Output, d, "manifest.csv"), rows.Where(r => r.Domain == d));
        Manifest.Write(Path.Combine(o.Output, "manifest.csv"), rows);
        var summary = Summary(rows, o);
        File.WriteAllText(Path.Combine(o.Output, "summary.md"), summary);
        lock (_log) _log.WriteLine($"corpus: {what}, manifest.csv now holds {rows.Count} files");
        return summary;
    }

    string StatePath(CorpusJob j) => Path.Combine(StateDir, j.Id.Replace('/', '_') + ".csv");

    List<ManifestRow>? ReadState(CorpusJob j)
    {
        var p = StatePath(j);
        if (!File.Exists(p)) return null;
        // The audio depends only on the seed and the job id; the split follows the current plan.
        return File.ReadAllLines(p).Where(l => l.Length > 0).Select(ManifestRow.Parse).Select(r => r with { Split = j.Split }).ToList();
    }

    List<ManifestRow> RunJob(CorpusJob job, ConcurrentDictionary<string, double> durations)
    {
        if (ReadState(job) is { } existing) return existing; // finished in an earlier run
        var rng = StableHash.Rng(o.Seed, job.Id);
        double? target = null;
        if (job.PairId is not null)
        {
            if (!durations.TryGetValue(job.PairId, out var t) || t <= 0)
                throw new InvalidOperationException($"partner {job.PairId} produced no audio");
            target = t;
        }
        var rows = new List<ManifestRow>();
        var raw = job.Produce(new JobContext(rng, target));
        if (raw is not null)
        {
            var trimmed = SignalOps.TrimSilence(raw);
            if (trimmed.DurationS >= 0.2)
            {
                var pieces = job.Segment ? SignalOps.Segment(trimmed, 3, 8, rng) : [trimmed];
                for (int i = 0; i < pieces.Count; i++)
                {
                    var piece = SignalOps.NormaliseLoudness(pieces[i], -26);
                    piece = SignalOps.AddNoiseFloor(piece, 50 + 15 * rng.NextDouble(), rng);
                    var path = job.DrawPath(rng);
                    var outSig = SignalOps.NormaliseLoudness(path.Apply(piece), -26 + 6 * (rng.NextDouble() - 0.5) * 2);
                    string rel = job.Id + (job.Segment ? $"-s{i:00}" : "") + ".wav";
                    outSig.WriteWav(Path.Combine(o.Output, rel));
                    rows.Add(new ManifestRow(rel, job.Label, job.Domain, job.Split, job.Speaker, job.Source, job.Generator,
                        job.License, Math.Round(outSig.DurationS, 3)));
                }
            }
        }
        var state = StatePath(job);
        File.WriteAllLines(state + ".tmp", rows.Select(r => r.ToCsv()));
        File.Move(state + ".tmp", state, true);
        return rows;
    }

    /// <summary>Minutes per domain, split and label, plus the held-out generators.</summary>
    public static string Summary(IReadOnlyList<ManifestRow> rows, CorpusOptions o)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Corpus summary (seed {o.Seed})").AppendLine();
        sb.AppendLine("| domain | split | bonafide files | bonafide min | spoof files | spoof min |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|");
        string F(double s) => (s / 60).ToString("0.00", CultureInfo.InvariantCulture);
        foreach (var d in ManifestRow.Domains.Where(d => o.Domains.Contains(d)))
        {
            foreach (var s in ManifestRow.Splits.Append("all"))
            {
                var sel = rows.Where(r => r.Domain == d && (s == "all" || r.Split == s)).ToList();
                var b = sel.Where(r => !r.IsSpoof).ToList(); var f = sel.Where(r => r.IsSpoof).ToList();
                string dd = s == "all" ? $"**{d}**" : d, ss = s == "all" ? "**all**" : s;
                sb.AppendLine($"| {dd} | {ss} | {b.Count} | {F(b.Sum(r => r.DurationS))} | {f.Count} | {F(f.Sum(r => r.DurationS))} |");
            }
        }
        sb.AppendLine().AppendLine("Generators per domain (spoof minutes):").AppendLine();
        foreach (var g in rows.Where(r => r.IsSpoof).GroupBy(r => (r.Domain, Gen: r.Generator.Split('+')[0])).OrderBy(g => g.Key.Domain).ThenBy(g => g.Key.Gen))
            sb.AppendLine($"- {g.Key.Domain} {g.Key.Gen}: {g.Count()} files, {F(g.Sum(r => r.DurationS))} min");
        sb.AppendLine().AppendLine("Held out of every domain (for generalisation tests):").AppendLine();
        foreach (var h in Voices.HeldOut) sb.AppendLine($"- {h}");
        return sb.ToString();
    }
}
