using MoeFunctions.Training.Evaluation;

namespace MoeFunctions.Training.Tests;

public class MetricsTests
{
    [Fact]
    public void SeparableScoresHaveZeroEerAndCost()
    {
        double[] s = [0.1, 0.2, 0.3, 0.7, 0.8, 0.9];
        bool[] y = [false, false, false, true, true, true];
        Assert.Equal(0, Metrics.Eer(s, y), 9);
        Assert.Equal(0, Metrics.MinDcf(s, y), 9);
    }

    [Fact]
    public void ReversedScoresHaveEerOne()
    {
        double[] s = [0.9, 0.8, 0.1, 0.2];
        bool[] y = [false, false, true, true];
        Assert.Equal(1, Metrics.Eer(s, y), 9);
    }

    [Fact]
    public void OneSwappedPairOfFourGivesQuarterEer()
    {
        // bona fide 0.1 0.2 0.3 0.6 ; spoof 0.4 0.7 0.8 0.9 -> at threshold 0.5: miss 1/4, fa 1/4.
        double[] s = [0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9];
        bool[] y = [false, false, false, false, true, true, true, true];
        Assert.Equal(0.25, Metrics.Eer(s, y), 9);
    }

    [Fact]
    public void MinDcfOfUninformativeScoresIsOne()
    {
        double[] s = [0.5, 0.5, 0.5, 0.5];
        bool[] y = [false, true, false, true];
        Assert.Equal(1, Metrics.MinDcf(s, y), 9);
    }

    [Fact]
    public void BootstrapIntervalContainsTheEstimateAndIsSeeded()
    {
        var rng = new Random(3);
        var y = Enumerable.Range(0, 400).Select(i => i % 2 == 1).ToArray();
        var s = y.Select(v => (v ? 0.6 : 0.4) + 0.3 * (rng.NextDouble() - 0.5) * 2).ToArray();
        double eer = Metrics.Eer(s, y);
        var (lo, hi) = Metrics.Bootstrap(s, y, Metrics.Eer, 300, seed: 5);
        Assert.InRange(eer, lo, hi);
        Assert.True(hi > lo);
        Assert.Equal((lo, hi), Metrics.Bootstrap(s, y, Metrics.Eer, 300, seed: 5));
    }
}
