using MoeFunctions.Detection;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>
/// File-level aggregation for the cloud finalizer: mean calibrated P(spoof) over the speech windows, the bundle's decision
/// rule, merged runs of suspicious windows as the timeline, mean gate weight per expert.
/// Kept small and local until Detection's file aggregator is on main; the finalizer then calls that instead.
/// </summary>
public static class FileVerdicts
{
    public static FileVerdict Aggregate(IReadOnlyList<WindowOutcome> windows, IReadOnlyList<string> experts, DecisionRule rule, bool trained)
    {
        var scored = windows.Where(w => w.IsSpeech && w.Score is not null).OrderBy(w => w.Index).ToList();
        int notApplicable = windows.Count - scored.Count;
        if (scored.Count == 0)
            return new FileVerdict(Verdict.NotApplicable, null, [], new Dictionary<string, double>(), 0, notApplicable);

        double p = scored.Average(w => w.Score!.SpoofProbability);
        var verdict = !trained ? Verdict.Uncertain
            : p >= rule.Threshold + rule.UncertainBand ? Verdict.Fake
            : p < rule.Threshold - rule.UncertainBand ? Verdict.Real
            : Verdict.Uncertain;

        var weights = new Dictionary<string, double>();
        for (int e = 0; e < experts.Count; e++)
            weights[experts[e]] = scored.Average(w => e < w.Score!.GateWeights.Length ? w.Score.GateWeights[e] : 0);

        var timeline = new List<Segment>();
        List<WindowOutcome> run = [];
        void Flush()
        {
            if (run.Count > 0) timeline.Add(new Segment(run[0].StartSeconds, run[^1].EndSeconds, run.Max(w => w.Score!.SpoofProbability)));
            run = [];
        }
        foreach (var w in scored)
        {
            bool suspicious = w.Score!.SpoofProbability >= rule.Threshold;
            bool adjacent = run.Count > 0 && w.Index == run[^1].Index + 1;
            if (!suspicious || (run.Count > 0 && !adjacent)) Flush();
            if (suspicious) run.Add(w);
        }
        Flush();
        return new FileVerdict(verdict, p, timeline, weights, scored.Count, notApplicable);
    }
}
