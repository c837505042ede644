using MoeFunctions.Training.Data;

namespace MoeFunctions.Training.Tests;

public class WaveAugmenterTests
{
    const int N = 16000, Batch = 6;

    /// <summary>Six one-second windows of a 300 Hz tone plus a little noise, each at its own level.</summary>
    static float[] Speechlike()
    {
        var rng = new Random(3);
        var x = new float[Batch * N];
        for (int i = 0; i < Batch; i++)
            for (int t = 0; t < N; t++)
                x[i * N + t] = (float)((0.1 + 0.1 * i) * Math.Sin(2 * Math.PI * 300 * t / 16000.0) + 0.01 * (rng.NextDouble() - 0.5));
        return x;
    }

    static double Correlation(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int t = 0; t < a.Length; t++) { ab += a[t] * (double)b[t]; aa += a[t] * (double)a[t]; bb += b[t] * (double)b[t]; }
        return ab / Math.Sqrt(aa * bb);
    }

    [Fact]
    public void At_probability_zero_every_window_comes_back_unchanged()
    {
        var x = Speechlike();
        Assert.Equal(x, new WaveAugmenter(probability: 0).Apply(x, Batch, seed: 1, epoch: 1, batch: 0));
    }

    [Fact]
    public void The_same_seed_epoch_and_batch_give_the_same_batch_and_others_differ()
    {
        var x = Speechlike();
        var augmenter = new WaveAugmenter();
        var a = augmenter.Apply(x, Batch, 1, 2, 3);
        Assert.Equal(a, augmenter.Apply(x, Batch, 1, 2, 3));
        Assert.NotEqual(a, augmenter.Apply(x, Batch, 1, 3, 3));
        Assert.NotEqual(a, augmenter.Apply(x, Batch, 1, 2, 4));
        Assert.NotEqual(x, a);
    }

    [Fact]
    public void At_probability_one_every_window_changes_but_keeps_its_signal()
    {
        var x = Speechlike();
        var y = new WaveAugmenter(probability: 1).Apply(x, Batch, 5, 1, 0);
        Assert.All(y, v => Assert.True(float.IsFinite(v)));
        for (int i = 0; i < Batch; i++)
        {
            var a = x.AsSpan(i * N, N); var b = y.AsSpan(i * N, N);
            Assert.False(a.SequenceEqual(b), $"window {i} unchanged");
            // A band-stop may sit on the tone, and noise sits at 10 dB or more below the signal: the tone stays in it.
            Assert.True(Correlation(a, b) > 0.2, $"window {i}: correlation {Correlation(a, b):F3}");
        }
    }

    [Fact]
    public void A_silent_window_stays_silent()
    {
        // Impulses scale with the signal and the noise is set relative to it, so silence gets neither.
        var y = new WaveAugmenter(probability: 1).Apply(new float[Batch * N], Batch, 5, 1, 0);
        Assert.All(y, v => Assert.Equal(0f, v));
    }
}
