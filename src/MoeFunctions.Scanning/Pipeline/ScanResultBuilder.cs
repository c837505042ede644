using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Pipeline;

/// <summary>
/// Turns what a scan learned (decode facts, window outcomes, the file verdict, the model used) into the one
/// <see cref="ScanResult"/> document. Shared by `moe scan` and the cloud finalizer so both write the same thing.
/// </summary>
public static class ScanResultBuilder
{
    /// <summary>Reason recorded on every scored file when the bundle is untrained (manifest trained = false).</summary>
    public const string UntrainedReason =
        "model bundle is not trained: the score is a placeholder, not evidence; verdict withheld (Uncertain)";

    /// <summary>The model as a scorer runs it: its resolved mode, top-k and gate (dense runs every expert, cascade starts at one).</summary>
    public static ModelSummary Model(MoeScorer scorer, DecisionRule rule) =>
        Model(scorer.Bundle, scorer.Mode, scorer.TopK, scorer.Gate, scorer.ActiveDevice, rule, scorer.Precision);

    public static ModelSummary Model(ModelBundle bundle, RoutingMode mode, int topK, GateKind gate, string activeDevice, DecisionRule rule,
        ExpertPrecision precision = ExpertPrecision.Fp32)
    {
        var m = bundle.Manifest;
        return new ModelSummary
        {
            Name = m.Name,
            Version = m.Version,
            Sha256 = bundle.Sha256,
            Trained = m.Trained,
            Mode = mode,
            TopK = topK,
            Gate = gate,
            Device = activeDevice,
            Precision = precision == ExpertPrecision.Int8 ? "int8" : "fp32",
            Threshold = rule.Threshold,
            UncertainBand = rule.UncertainBand,
            Experts = m.Experts.Select(e => new ExpertSummary(e.Name, e.Domain)).ToArray(),
        };
    }

    /// <summary>A file that was decoded and whose windows went through the scorer and the aggregator.</summary>
    /// <param name="decodedSeconds">Audio actually decoded (used when the container did not state a duration).</param>
    public static ScanResult Scored(
        string scanId, ScanSource source, MediaFacts facts, double decodedSeconds,
        IReadOnlyList<WindowOutcome> windows, FileVerdict verdict, ModelSummary model,
        ScanTimings timings, DateTimeOffset scannedAt, bool includeWindows = true)
    {
        var (finalVerdict, reason, timeline) = (verdict.Verdict, (string?)null, verdict.Timeline);
        if (verdict.Verdict == Verdict.NotApplicable)
            reason = windows.Count == 0 ? "no audio decoded" : $"no speech found in {windows.Count} window(s)";
        else if (!model.Trained && verdict.Verdict is Verdict.Fake or Verdict.Real or Verdict.Uncertain)
            // Untrained: keep the numbers (windows, spoofProbability) for debugging, but no verdict and no "suspicious" segments.
            (finalVerdict, reason, timeline) = (Verdict.Uncertain, UntrainedReason, []);

        return new ScanResult
        {
            ScanId = scanId,
            Source = source,
            Verdict = finalVerdict,
            SpoofProbability = verdict.Verdict is Verdict.NotApplicable or Verdict.Failed ? null : verdict.SpoofProbability,
            Reason = reason,
            Media = Media(facts, decodedSeconds),
            Model = model,
            ExpertWeights = verdict.ExpertWeights,
            Timeline = timeline,
            Windows = includeWindows ? windows.OrderBy(w => w.Index).Select(Window).ToArray() : [],
            WindowsScored = verdict.WindowsScored,
            WindowsNotApplicable = verdict.WindowsNotApplicable,
            Timings = timings,
            ScannedAt = scannedAt,
        };
    }

    /// <summary>A file that could not be decoded or scored. <paramref name="facts"/> when the header was read before the failure.</summary>
    public static ScanResult Failed(
        string scanId, ScanSource source, string reason, ModelSummary model,
        ScanTimings timings, DateTimeOffset scannedAt, MediaFacts? facts = null, double decodedSeconds = 0) => new()
    {
        ScanId = scanId,
        Source = source,
        Verdict = Verdict.Failed,
        Reason = string.IsNullOrWhiteSpace(reason) ? "failed for an unknown reason" : reason,
        Media = facts is null ? null : Media(facts, decodedSeconds),
        Model = model,
        Timings = timings,
        ScannedAt = scannedAt,
    };

    public static MediaSummary Media(MediaFacts facts, double decodedSeconds) =>
        new(facts.Format, facts.Decoder, facts.SampleRate, facts.Channels,
            Math.Round(decodedSeconds > 0 ? decodedSeconds : facts.DurationSeconds ?? 0, 3));

    public static WindowRecord Window(WindowOutcome w) => new()
    {
        Index = w.Index,
        Start = Math.Round(w.StartSeconds, 3),
        End = Math.Round(w.EndSeconds, 3),
        Speech = w.IsSpeech,
        Score = w.Score?.SpoofProbability,
        Gate = w.Score?.GateWeights,
        Experts = w.Score?.ExpertBonafide.Select(v => float.IsNaN(v) ? (float?)null : v).ToArray(),
    };
}
