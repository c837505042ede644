namespace MoeFunctions.Training.Evaluation;

/// <summary>
/// Detection metrics over scores where higher means "more likely spoof". Bona fide is the target class:
/// a miss is a bona fide trial scored at or above the threshold, a false alarm a spoof trial scored below it.
/// </summary>
public static class Metrics
{
    /// <summary>Equal error rate in [0, 1]: where miss and false-alarm rates cross (mean of the two at the closest threshold).</summary>
    public static double Eer(IReadOnlyList<double> scores, IReadOnlyList<bool> spoof)
    {
        var (miss, fa) = Curves(scores, spoof);
        double best = double.MaxValue, eer = 0.5;
        for (int i = 0; i < miss.Length; i++)
        {
            double gap = Math.Abs(miss[i] - fa[i]);
            if (gap < best) { best = gap; eer = (miss[i] + fa[i]) / 2; }
        }
        return eer;
    }

    /// <summary>Normalised minimum detection cost (ASVspoof 5 CM costs by default: P(spoof) 0.05, C_miss 1, C_fa 10).</summary>
    public static double MinDcf(IReadOnlyList<double> scores, IReadOnlyList<bool> spoof, double pSpoof = 0.05, double cMiss = 1, double cFa = 10)
    {
        var (miss, fa) = Curves(scores, spoof);
        double pTarget = 1 - pSpoof;
        double norm = Math.Min(cMiss * pTarget, cFa * pSpoof);
        double best = double.MaxValue;
        for (int i = 0; i < miss.Length; i++)
            best = Math.Min(best, (cMiss * pTarget * miss[i] + cFa * pSpoof * fa[i]) / norm);
        return best;
    }

    /// <summary>Miss and false-alarm rates for thresholds at -inf and just above each distinct score.</summary>
    private static (double[] Miss, double[] Fa) Curves(IReadOnlyList<double> scores, IReadOnlyList<bool> spoof)
    {
        if (scores.Count != spoof.Count) throw new ArgumentException("scores and labels differ in length");
        int nSpoof = spoof.Count(s => s), nReal = spoof.Count - nSpoof;
        if (nSpoof == 0 || nReal == 0) throw new ArgumentException($"metrics need both classes (bona fide {nReal}, spoof {nSpoof})");
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var miss = new List<double> { 1.0 };  // threshold below everything: every trial called spoof
        var fa = new List<double> { 0.0 };
        int realBelow = 0, spoofBelow = 0;
        for (int k = 0; k < order.Length; k++)
        {
            if (spoof[order[k]]) spoofBelow++; else realBelow++;
            if (k + 1 < order.Length && scores[order[k + 1]] == scores[order[k]]) continue;
            miss.Add(1.0 - (double)realBelow / nReal);
            fa.Add((double)spoofBelow / nSpoof);
        }
        return (miss.ToArray(), fa.ToArray());
    }

    /// <summary>Percentile bootstrap 95 % interval of a metric, resampling trials with replacement (seeded).</summary>
    public static (double Low, double High) Bootstrap(IReadOnlyList<double> scores, IReadOnlyList<bool> spoof,
        Func<IReadOnlyList<double>, IReadOnlyList<bool>, double> metric, int resamples = 1000, int seed = 1)
    {
        var rng = new Random(seed);
        var values = new List<double>(resamples);
        var s = new double[scores.Count];
        var l = new bool[scores.Count];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < s.Length; i++) { int j = rng.Next(s.Length); s[i] = scores[j]; l[i] = spoof[j]; }
            if (l.All(x => x) || l.All(x => !x)) continue;
            values.Add(metric(s, l));
        }
        values.Sort();
        if (values.Count == 0) return (double.NaN, double.NaN);
        return (values[(int)Math.Floor(0.025 * (values.Count - 1))], values[(int)Math.Ceiling(0.975 * (values.Count - 1))]);
    }
}
