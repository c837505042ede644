using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Pipeline;

namespace MoeFunctions.Scanning.Tests.Local;

/// <summary>The rules the builder adds on top of the aggregator's verdict (shared by the CLI and the cloud).</summary>
public sealed class ScanResultBuilderTests
{
    private static readonly ModelSummary Trained = new() { Name = "m", Version = "1", Sha256 = "h", Trained = true, Threshold = 0.5 };
    private static readonly MediaFacts Facts = new("mp3", "NLayer", 44100, 2, null);
    private static readonly ScanSource Source = new() { Path = "/x.mp3", Bytes = 1 };

    private static WindowOutcome Scored(int i, double p) =>
        new(i, i * 3, i * 3 + 3, true, new WindowScore(p, 1 - p, [0.25f, 0.75f], [(float)(1 - p), float.NaN]));

    private static FileVerdict VerdictOf(Verdict v, double? p, int scored = 2) =>
        new(v, p, [new Segment(0, 6, 0.9)], new Dictionary<string, double> { ["a"] = 0.25, ["b"] = 0.75 }, scored, 0);

    [Theory]
    [InlineData(Verdict.Fake)]
    [InlineData(Verdict.Real)]
    [InlineData(Verdict.Uncertain)]
    public void UntrainedModelsWithholdEveryScoredVerdict(Verdict verdict)
    {
        var r = ScanResultBuilder.Scored("id", Source, Facts, 6.0, [Scored(1, 0.9), Scored(0, 0.8)], VerdictOf(verdict, 0.9),
            Trained with { Trained = false }, new ScanTimings(), DateTimeOffset.UnixEpoch);
        Assert.Equal(Verdict.Uncertain, r.Verdict);
        Assert.Equal(ScanResultBuilder.UntrainedReason, r.Reason);
        Assert.Equal(0.9, r.SpoofProbability);
        Assert.Empty(r.Timeline);           // no "suspicious" segments from an untrained model
        Assert.Equal(2, r.Windows.Count);   // but the raw window scores stay for debugging
    }

    [Fact]
    public void TrainedVerdictsPassThroughWithWindowsInOrder()
    {
        var r = ScanResultBuilder.Scored("id", Source, Facts, 6.0, [Scored(1, 0.9), Scored(0, 0.8)], VerdictOf(Verdict.Fake, 0.9),
            Trained, new ScanTimings(), DateTimeOffset.UnixEpoch);
        Assert.Equal(Verdict.Fake, r.Verdict);
        Assert.Null(r.Reason);
        Assert.Single(r.Timeline);
        Assert.Equal([0, 1], r.Windows.Select(w => w.Index));
        Assert.Equal([0.2f, null], r.Windows[0].Experts!);        // NaN (expert not run) becomes null
        Assert.Equal(6.0, r.Media!.DurationSeconds);               // decoded duration when the container states none
        Assert.Equal(44100, r.Media.SampleRate);
    }

    [Fact]
    public void NotApplicableSaysWhyAndHasNoProbability()
    {
        var silent = new WindowOutcome(0, 0, 3, false, null);
        var r = ScanResultBuilder.Scored("id", Source, Facts, 3.0, [silent], new FileVerdict(Verdict.NotApplicable, null, [], new Dictionary<string, double>(), 0, 1),
            Trained, new ScanTimings(), DateTimeOffset.UnixEpoch);
        Assert.Equal(Verdict.NotApplicable, r.Verdict);
        Assert.Null(r.SpoofProbability);
        Assert.Equal("no speech found in 1 window(s)", r.Reason);
    }

    [Fact]
    public void FailedKeepsTheReasonAndAnyFactsRead()
    {
        var r = ScanResultBuilder.Failed("id", Source, "corrupt frame at 12 s", Trained, new ScanTimings(), DateTimeOffset.UnixEpoch, Facts, 12);
        Assert.Equal(Verdict.Failed, r.Verdict);
        Assert.Equal("corrupt frame at 12 s", r.Reason);
        Assert.Equal("mp3", r.Media!.Format);
        Assert.Equal("failed for an unknown reason", ScanResultBuilder.Failed("id", Source, " ", Trained, new(), default).Reason);
    }
}
