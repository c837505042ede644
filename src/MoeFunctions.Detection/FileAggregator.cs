namespace MoeFunctions.Detection;

/// <summary>
/// Window scores -> one file verdict. Rule (docs/model-bundle.md, "File verdict"):
/// the file's P(spoof) is the mean of the highest third (rounded up) of its speech windows' P(spoof).
/// A partly fake file (a spliced sentence in a real call) is still caught, while one stray high window in a long
/// real file is diluted by the other top windows; for files of one to three windows it is their maximum.
/// </summary>
public static class FileAggregator
{
    /// <summary>Share of the highest-scoring speech windows averaged into the file probability.</summary>
    public const double TopFraction = 1.0 / 3.0;

    /// <param name="expertNames">The bundle's expert names, in gate order (keys of <see cref="FileVerdict.ExpertWeights"/>).</param>
    public static FileVerdict Aggregate(IReadOnlyList<WindowOutcome> windows, DecisionRule rule, IReadOnlyList<string> expertNames)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(expertNames);

        var scored = windows.Where(w => w.IsSpeech && w.Score is not null).OrderBy(w => w.Index).ToList();
        var notApplicable = windows.Count - scored.Count;
        if (scored.Count == 0)
            return new FileVerdict(Verdict.NotApplicable, null, [], new Dictionary<string, double>(), 0, notApplicable);

        var probability = FileProbability(scored.Select(w => w.Score!.SpoofProbability));
        return new FileVerdict(Decide(probability, rule), probability, Timeline(scored, rule.Threshold),
            MeanWeights(scored, expertNames), scored.Count, notApplicable);
    }

    /// <summary>Mean of the top third (at least one) of the window probabilities.</summary>
    public static double FileProbability(IEnumerable<double> windowProbabilities)
    {
        var sorted = windowProbabilities.OrderByDescending(p => p).ToList();
        if (sorted.Count == 0) throw new ArgumentException("no window probabilities", nameof(windowProbabilities));
        var take = Math.Max(1, (int)Math.Ceiling(sorted.Count * TopFraction));
        return sorted.Take(take).Average();
    }

    /// <summary>At or above threshold + band: Fake; below threshold - band: Real; otherwise Uncertain.</summary>
    public static Verdict Decide(double spoofProbability, DecisionRule rule) =>
        spoofProbability >= rule.Threshold + rule.UncertainBand ? Verdict.Fake
        : spoofProbability < rule.Threshold - rule.UncertainBand ? Verdict.Real
        : Verdict.Uncertain;

    /// <summary>Windows at or above the threshold, merged while they overlap or touch in time; each segment keeps its highest window score.</summary>
    public static IReadOnlyList<Segment> Timeline(IReadOnlyList<WindowOutcome> scored, double threshold)
    {
        const double touch = 1e-6; // seconds: adjacent windows share an end/start up to rounding
        var segments = new List<Segment>();
        Segment? current = null;
        foreach (var w in scored.OrderBy(w => w.StartSeconds))
        {
            var p = w.Score!.SpoofProbability;
            if (p < threshold) { Flush(); continue; }
            if (current is not null && w.StartSeconds <= current.EndSeconds + touch)
                current = new Segment(current.StartSeconds, Math.Max(current.EndSeconds, w.EndSeconds), Math.Max(current.SpoofProbability, p));
            else
            {
                Flush();
                current = new Segment(w.StartSeconds, w.EndSeconds, p);
            }
        }
        Flush();
        return segments;

        void Flush()
        {
            if (current is not null) segments.Add(current);
            current = null;
        }
    }

    private static Dictionary<string, double> MeanWeights(IReadOnlyList<WindowOutcome> scored, IReadOnlyList<string> names)
    {
        var sums = new double[names.Count];
        foreach (var w in scored)
        {
            var g = w.Score!.GateWeights;
            if (g.Length != names.Count)
                throw new ArgumentException($"window {w.Index} has {g.Length} gate weights for {names.Count} experts");
            for (var e = 0; e < g.Length; e++) sums[e] += g[e];
        }
        return names.Select((n, e) => (n, e)).ToDictionary(x => x.n, x => sums[x.e] / scored.Count);
    }
}
