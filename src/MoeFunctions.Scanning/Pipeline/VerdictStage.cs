using MoeFunctions.Detection;

namespace MoeFunctions.Scanning.Pipeline;

/// <summary>Window outcomes -> file verdict. TEMPORARY stand-in until Detection's FileAggregator is on main; then this calls it.</summary>
internal static class VerdictStage
{
    public static FileVerdict Aggregate(IReadOnlyList<WindowOutcome> outcomes, DecisionRule rule, IReadOnlyList<string> expertNames)
    {
        var scored = outcomes.Where(o => o.Score is not null).ToList();
        var na = outcomes.Count - scored.Count;
        if (scored.Count == 0)
            return new FileVerdict(Verdict.NotApplicable, null, [], new Dictionary<string, double>(), 0, na);
        var p = scored.Average(o => o.Score!.SpoofProbability);
        var verdict = p >= rule.Threshold + rule.UncertainBand ? Verdict.Fake
            : p < rule.Threshold - rule.UncertainBand ? Verdict.Real : Verdict.Uncertain;
        var weights = expertNames.Select((n, i) => (n, scored.Average(o => (double)o.Score!.GateWeights[i])))
            .ToDictionary(x => x.n, x => x.Item2);
        return new FileVerdict(verdict, p, [], weights, scored.Count, na);
    }
}
