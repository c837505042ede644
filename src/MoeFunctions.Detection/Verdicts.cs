using System.Text.Json.Serialization;

namespace MoeFunctions.Detection;

[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict { Fake, Real, Uncertain, NotApplicable, Failed }

/// <summary>A window as the aggregator sees it: where it is, whether it held speech, and its score when scored.</summary>
public sealed record WindowOutcome(int Index, double StartSeconds, double EndSeconds, bool IsSpeech, WindowScore? Score);

/// <summary>A run of suspicious windows merged into one segment.</summary>
public sealed record Segment(double StartSeconds, double EndSeconds, double SpoofProbability);

public sealed record FileVerdict(
    Verdict Verdict,
    double? SpoofProbability,
    IReadOnlyList<Segment> Timeline,
    IReadOnlyDictionary<string, double> ExpertWeights,
    int WindowsScored,
    int WindowsNotApplicable);
