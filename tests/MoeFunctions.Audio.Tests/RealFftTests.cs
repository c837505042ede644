using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

public sealed class RealFftTests
{
    /// <summary>|X[k]|^2 by the textbook DFT sum, the definition the FFT must reproduce.</summary>
    private static double[] NaivePower(double[] x)
    {
        int n = x.Length;
        var p = new double[n / 2 + 1];
        for (int k = 0; k <= n / 2; k++)
        {
            double re = 0, im = 0;
            for (int t = 0; t < n; t++)
            {
                double a = -2 * Math.PI * ((long)k * t % n) / n;
                re += x[t] * Math.Cos(a);
                im += x[t] * Math.Sin(a);
            }
            p[k] = re * re + im * im;
        }
        return p;
    }

    [Theory]
    [InlineData(8)]    // scalar stages only
    [InlineData(16)]   // one vector stage
    [InlineData(512)]  // the front end's and the speech detector's size
    [InlineData(2048)]
    public void Matches_the_DFT_definition(int n)
    {
        var rng = new Random(n);
        var fft = new RealFft(n);
        var power = new double[n / 2 + 1];
        for (int round = 0; round < 3; round++)
        {
            var x = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
            fft.Power(x, power);
            var want = NaivePower(x);
            double scale = want.Max();
            for (int k = 0; k <= n / 2; k++) Assert.True(Math.Abs(power[k] - want[k]) <= 1e-9 * scale, $"n={n} k={k}: {power[k]} vs {want[k]}");
        }
    }

    [Fact]
    public void A_tone_on_a_bin_puts_its_power_there()
    {
        const int n = 512, bin = 37;
        var x = Enumerable.Range(0, n).Select(t => Math.Cos(2 * Math.PI * bin * t / n)).ToArray();
        var power = new double[n / 2 + 1];
        new RealFft(n).Power(x, power);
        Assert.Equal((n / 2.0) * (n / 2.0), power[bin], 6);
        Assert.All(power.Where((_, k) => k != bin), v => Assert.True(v < 1e-12, $"leak {v}"));
    }

    [Fact]
    public void Allocates_nothing_per_call()
    {
        var fft = new RealFft(512);
        var x = new double[512];
        var power = new double[257];
        // Over 1000 calls, even the smallest array per call would be 24 KB.
        Assert.InRange(Allocations.OnThisThread(1000, () => fft.Power(x, power)), 0, 1024);
    }

    [Fact]
    public void Rejects_bad_sizes()
    {
        Assert.Throws<ArgumentException>(() => new RealFft(500));
        Assert.Throws<ArgumentException>(() => new RealFft(4));
        var fft = new RealFft(64);
        Assert.Throws<ArgumentException>(() => fft.Power(new double[63], new double[33]));
        Assert.Throws<ArgumentException>(() => fft.Power(new double[64], new double[32]));
    }
}
