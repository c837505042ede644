using MoeFunctions.Detection;

namespace MoeFunctions.Scanning.Pipeline;

/// <summary>Window outcomes -> file verdict, by Detection's documented rule (docs/model-bundle.md, "File verdict").</summary>
internal static class VerdictStage
{
    public static FileVerdict Aggregate(IReadOnlyList<WindowOutcome> outcomes, DecisionRule rule, IReadOnlyList<string> expertNames) =>
        FileAggregator.Aggregate(outcomes, rule, expertNames);
}
