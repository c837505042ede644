using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

public class FileAggregatorTests
{
    private static readonly string[] Names = ["a", "b"];
    private static readonly DecisionRule Rule = new() { Threshold = 0.5, UncertainBand = 0.1 };

    private static WindowOutcome W(int i, double? p, bool speech = true, float gateA = 0.5f, double hop = 3) =>
        new(i, i * hop, i * hop + 3, speech, p is null ? null : new WindowScore(p.Value, 1 - p.Value, [gateA, 1 - gateA], [float.NaN, 0.5f]));

    [Fact]
    public void No_speech_windows_is_not_applicable()
    {
        var v = FileAggregator.Aggregate([W(0, null, speech: false), W(1, 0.9, speech: false)], Rule, Names);
        Assert.Equal(Verdict.NotApplicable, v.Verdict);
        Assert.Null(v.SpoofProbability);
        Assert.Empty(v.Timeline);
        Assert.Equal(0, v.WindowsScored);
        Assert.Equal(2, v.WindowsNotApplicable);

        Assert.Equal(Verdict.NotApplicable, FileAggregator.Aggregate([], Rule, Names).Verdict);
    }

    [Fact]
    public void File_probability_is_the_mean_of_the_top_third()
    {
        Assert.Equal(0.8, FileAggregator.FileProbability([0.8]));
        Assert.Equal(0.9, FileAggregator.FileProbability([0.1, 0.9, 0.2]));          // ceil(3/3) = 1
        Assert.Equal((0.9 + 0.7) / 2, FileAggregator.FileProbability([0.1, 0.9, 0.2, 0.7]), 12); // ceil(4/3) = 2
        Assert.Equal((0.9 + 0.8 + 0.7) / 3, FileAggregator.FileProbability([0.9, 0.1, 0.8, 0.1, 0.7, 0.1, 0.1, 0.1, 0.1]), 12);
    }

    [Fact]
    public void A_partly_fake_file_is_caught_and_one_stray_window_in_a_long_real_file_is_not()
    {
        // 9 windows, 3 of them fake (a spliced passage): top third = the 3 fakes.
        var spliced = Enumerable.Range(0, 9).Select(i => W(i, i is >= 3 and <= 5 ? 0.95 : 0.05)).ToList();
        Assert.Equal(Verdict.Fake, FileAggregator.Aggregate(spliced, Rule, Names).Verdict);

        // 30 real windows with one false alarm: the mean of the top 10 stays low.
        var real = Enumerable.Range(0, 30).Select(i => W(i, i == 17 ? 0.9 : 0.1)).ToList();
        var v = FileAggregator.Aggregate(real, Rule, Names);
        Assert.Equal(Verdict.Real, v.Verdict);
        Assert.Equal((0.9 + 9 * 0.1) / 10, v.SpoofProbability!.Value, 12);
    }

    [Theory]
    [InlineData(0.60, Verdict.Fake)]   // at threshold + band
    [InlineData(0.599, Verdict.Uncertain)]
    [InlineData(0.40, Verdict.Uncertain)] // at threshold - band
    [InlineData(0.399, Verdict.Real)]
    [InlineData(0.5, Verdict.Uncertain)]
    public void Verdict_follows_the_decision_rule_at_its_edges(double p, Verdict expected) =>
        Assert.Equal(expected, FileAggregator.Decide(p, Rule));

    [Fact]
    public void Timeline_merges_consecutive_suspicious_windows_and_keeps_the_highest_score()
    {
        var windows = new[]
        {
            W(0, 0.7), W(1, 0.9), W(2, 0.2), W(3, 0.6), W(4, null, speech: false), W(5, 0.8), W(6, 0.55),
        };
        var v = FileAggregator.Aggregate(windows, Rule, Names);
        Assert.Equal([new Segment(0, 6, 0.9), new Segment(9, 12, 0.6), new Segment(15, 21, 0.8)], v.Timeline);
        Assert.Equal(6, v.WindowsScored);
        Assert.Equal(1, v.WindowsNotApplicable);
    }

    [Fact]
    public void Overlapping_windows_merge_across_their_overlap()
    {
        // hop 1.5 s: windows overlap by half
        var windows = new[] { W(0, 0.9, hop: 1.5), W(1, 0.2, hop: 1.5), W(2, 0.7, hop: 1.5), W(3, 0.8, hop: 1.5) };
        var v = FileAggregator.Aggregate(windows, Rule, Names);
        Assert.Equal([new Segment(0, 3, 0.9), new Segment(3, 7.5, 0.8)], v.Timeline);
    }

    [Fact]
    public void Expert_weights_are_the_mean_gate_weights_over_scored_windows()
    {
        var v = FileAggregator.Aggregate([W(0, 0.2, gateA: 0.2f), W(1, 0.3, gateA: 0.6f), W(2, null, speech: false, gateA: 1f)], Rule, Names);
        Assert.Equal(0.4, v.ExpertWeights["a"], 6);
        Assert.Equal(0.6, v.ExpertWeights["b"], 6);
    }
}
