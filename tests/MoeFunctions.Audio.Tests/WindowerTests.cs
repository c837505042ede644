using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>Window cutting: 48,000-sample windows with a hop, short files tiled, the last window aligned to the file's end.</summary>
public sealed class WindowerTests
{
    private const int W = 48000;

    private static float[] Ramp(int n) => Enumerable.Range(0, n).Select(i => i / (float)n).ToArray();

    [Fact]
    public void Exact_multiple_gives_back_to_back_windows()
    {
        var x = Ramp(3 * W);
        var windows = Windower.Split(new ArraySource(x), new WindowOptions()).ToList();
        Assert.Equal([0, 1, 2], windows.Select(w => w.Index));
        Assert.Equal([0.0, 3.0, 6.0], windows.Select(w => w.StartSeconds));
        Assert.Equal([3.0, 6.0, 9.0], windows.Select(w => w.EndSeconds));
        for (int k = 0; k < 3; k++) Assert.Equal(x.AsSpan(k * W, W).ToArray(), windows[k].Samples);
    }

    [Fact]
    public void Short_file_is_tiled_to_one_full_window()
    {
        var x = Ramp(20000); // 1.25 s
        var w = Assert.Single(Windower.Split(new ArraySource(x), new WindowOptions()));
        Assert.Equal(W, w.Samples.Length);
        Assert.Equal(0, w.StartSeconds);
        Assert.Equal(1.25, w.EndSeconds);
        for (int i = 0; i < W; i++) Assert.Equal(x[i % x.Length], w.Samples[i]);
    }

    [Fact]
    public void Final_partial_window_is_aligned_to_the_end_of_the_file()
    {
        var x = Ramp(2 * W + 10000);
        var windows = Windower.Split(new ArraySource(x), new WindowOptions()).ToList();
        Assert.Equal(3, windows.Count);
        var last = windows[2];
        Assert.Equal((2 * W + 10000 - W) / 16000.0, last.StartSeconds);
        Assert.Equal((2 * W + 10000) / 16000.0, last.EndSeconds);
        Assert.Equal(x.AsSpan(x.Length - W).ToArray(), last.Samples);
    }

    [Theory]
    [InlineData(24000, 100000)]  // 50 % overlap
    [InlineData(16000, 48000)]   // one window exactly, hop shorter: no extra windows
    [InlineData(64000, 200000)]  // hop longer than the window: gaps are skipped, the end is still covered
    public void Hop_sets_the_window_starts(int hop, int length)
    {
        var x = Ramp(length);
        var windows = Windower.Split(new ArraySource(x), new WindowOptions(W, hop)).ToList();
        var expected = new List<long>();
        for (long s = 0; s + W <= length; s += hop) expected.Add(s);
        if (expected.Count > 0 && expected[^1] + W < length) expected.Add(length - W);
        Assert.Equal(expected.Select(s => s / 16000.0), windows.Select(w => w.StartSeconds));
        foreach (var w in windows)
        {
            int start = (int)Math.Round(w.StartSeconds * 16000);
            Assert.Equal(x.AsSpan(start, W).ToArray(), w.Samples);
        }
    }

    [Fact]
    public void Empty_source_gives_no_windows()
    {
        Assert.Empty(Windower.Split(new ArraySource([]), new WindowOptions()));
    }

    [Fact]
    public void Invalid_options_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Windower.Split(new ArraySource([1f]), new WindowOptions(W, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Windower.Split(new ArraySource([1f]), new WindowOptions(0, W)));
    }

    [Fact]
    public void Long_stream_is_windowed_without_reading_it_all_first()
    {
        // 3 minutes of 16 kHz audio from a generator that counts how far it was read when the first window appears.
        var src = new CountingSource(3 * 60 * 16000);
        using var e = Windower.Split(src, new WindowOptions()).GetEnumerator();
        Assert.True(e.MoveNext());
        Assert.InRange(src.Produced, W, 2 * W);
        int count = 1;
        while (e.MoveNext()) count++;
        Assert.Equal(60, count);
    }

    private sealed class CountingSource(long total) : IMonoAudioSource
    {
        public long Produced { get; private set; }
        public MediaFacts Facts => new("test", "generator", 16000, 1, null);
        public int Read(Span<float> d)
        {
            int n = (int)Math.Min(d.Length, total - Produced);
            for (int i = 0; i < n; i++) d[i] = MathF.Sin((Produced + i) * 0.01f) * 0.1f;
            Produced += n;
            return n;
        }
        public void Dispose() { }
    }
}

/// <summary>Downmix is the mean of all channels, for every decoder path.</summary>
public sealed class DownmixTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    [Theory]
    [InlineData(".wav", "-c:a", "pcm_f32le")]
    [InlineData(".flac", "-sample_fmt", "s16")]
    [InlineData(".aiff", "-c:a", "pcm_s16be")]   // through ffmpeg
    public void Opposite_channels_cancel_and_one_sided_signal_halves(string ext, string opt, string val)
    {
        string cancel = MediaFiles.Synth(media.Dir.Path, "cancel" + ext, "0.5*sin(2*PI*1000*t)|-0.5*sin(2*PI*1000*t)", 1.0, 16000, 2, opt, val);
        float[] y = TestAudio.DecodeFile(cancel);
        Assert.True(TestAudio.Rms(y) < 1e-4, $"rms {TestAudio.Rms(y)}");

        string oneSided = MediaFiles.Synth(media.Dir.Path, "left" + ext, "0.8*sin(2*PI*1000*t)|0", 1.0, 16000, 2, opt, val);
        float[] z = TestAudio.DecodeFile(oneSided);
        Assert.Equal(0.4, TestAudio.ToneAmplitude(z.AsSpan(0, 16000), 1000), 3);
    }

    [Fact]
    public void Six_channels_are_averaged()
    {
        // Only channel 3 carries a tone: the mean is a sixth of it.
        string path = MediaFiles.Synth(media.Dir.Path, "six.wav", "0|0|0|0.6*sin(2*PI*500*t)|0|0", 1.0, 16000, 6, "-c:a", "pcm_f32le");
        float[] y = TestAudio.DecodeFile(path);
        Assert.Equal(0.1, TestAudio.ToneAmplitude(y.AsSpan(0, 16000), 500), 4);
    }
}
