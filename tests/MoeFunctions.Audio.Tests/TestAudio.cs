using MoeFunctions.Audio;
using MoeFunctions.Audio.Decoding;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>Helpers shared by the audio tests: reading whole sources, comparing signals, forward-only streams.</summary>
internal static class TestAudio
{
    public static float[] ReadAll(IMonoAudioSource source)
    {
        var all = new List<float>();
        var buf = new float[7919]; // odd size: exercises partial block handling
        int n;
        while ((n = source.Read(buf)) > 0) all.AddRange(buf.AsSpan(0, n));
        return all.ToArray();
    }

    /// <summary>The scanner's windows of a file: MediaDecoder, then Windower with <paramref name="options"/> (default 3 s, no overlap).</summary>
    public static List<AudioWindow> Windows(string path, WindowOptions? options = null)
    {
        using var src = MediaDecoder.OpenFile(path);
        return Windower.Split(src, options ?? new WindowOptions()).ToList();
    }

    public static float[] DecodeFile(string path, DecodeOptions? options = null)
    {
        using var src = MediaDecoder.Open(new ForwardOnlyWrapper(File.OpenRead(path)), options);
        return ReadAll(src);
    }

    /// <summary>All interleaved samples of the internal format decoder (native rate and channels).</summary>
    public static (float[] Samples, PcmDecoder Decoder) DecodeNative(string path)
    {
        var dec = MediaDecoder.OpenDecoder(new ForwardOnlyWrapper(File.OpenRead(path)), DecodeOptions.Default);
        var all = new List<float>();
        var buf = new float[4099 * dec.Channels];
        int n;
        while ((n = dec.ReadFrames(buf)) > 0) all.AddRange(buf.AsSpan(0, n * dec.Channels));
        dec.Dispose();
        return (all.ToArray(), dec);
    }

    /// <summary>ffmpeg's decode of the same file, mixed to mono by the mean of the channels (ffmpeg's own -ac 1 is (L+R)/sqrt 2)
    /// and resampled to 16 kHz by soxr at high precision: the reference for our decode + downmix + resample.</summary>
    public static double[] FfmpegMono16k(string path, int channels)
    {
        string mean = string.Join('+', Enumerable.Range(0, channels).Select(c => $"{1.0 / channels:R}*c{c}"));
        return MediaFiles.FfmpegDecodeDoubles(path, "-af", $"pan=mono|c0={mean},aresample=16000:resampler=soxr:precision=28");
    }

    /// <summary>Signal-to-noise ratio of <paramref name="test"/> against <paramref name="reference"/> over their common length, in dB.</summary>
    public static double SnrDb(ReadOnlySpan<float> test, ReadOnlySpan<double> reference, int skipEdges = 0)
    {
        int n = Math.Min(test.Length, reference.Length) - skipEdges;
        double sig = 0, err = 0;
        for (int i = skipEdges; i < n; i++) { sig += reference[i] * reference[i]; double d = test[i] - reference[i]; err += d * d; }
        return 10 * Math.Log10(sig / Math.Max(err, 1e-30));
    }

    /// <summary>The lag (test relative to reference, in samples, within ±maxLag) with the highest normalised correlation, and that correlation.</summary>
    public static (int Lag, double Correlation) BestLag(ReadOnlySpan<float> test, ReadOnlySpan<double> reference, int maxLag)
    {
        int n = Math.Min(test.Length, reference.Length) - 2 * maxLag;
        (int, double) best = (0, double.NegativeInfinity);
        for (int lag = -maxLag; lag <= maxLag; lag++)
        {
            double xy = 0, xx = 0, yy = 0;
            for (int i = maxLag; i < maxLag + n; i++)
            {
                double x = test[i + lag], y = reference[i];
                xy += x * y; xx += x * x; yy += y * y;
            }
            double c = xy / Math.Sqrt(xx * yy + 1e-30);
            if (c > best.Item2) best = (lag, c);
        }
        return best;
    }

    public static double Rms(ReadOnlySpan<float> s)
    {
        double sum = 0;
        foreach (float v in s) sum += v * (double)v;
        return Math.Sqrt(sum / Math.Max(1, s.Length));
    }

    /// <summary>Amplitude of the component at <paramref name="hz"/> (single-bin DFT over the span), as a peak value.</summary>
    public static double ToneAmplitude(ReadOnlySpan<float> s, double hz, int rate = MediaDecoder.TargetSampleRate)
    {
        double re = 0, im = 0;
        for (int i = 0; i < s.Length; i++)
        {
            double ph = 2 * Math.PI * hz * i / rate;
            re += s[i] * Math.Cos(ph);
            im -= s[i] * Math.Sin(ph);
        }
        return 2 * Math.Sqrt(re * re + im * im) / s.Length;
    }
}

/// <summary>A stream that refuses seeking and position queries, like a blob download stream.</summary>
internal sealed class ForwardOnlyWrapper(Stream inner) : TestSupport.ForwardOnlyStream
{
    public int ReadCalls { get; private set; }
    public override int Read(byte[] buffer, int offset, int count) { ReadCalls++; return inner.Read(buffer, offset, Math.Min(count, 8191)); }
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}

/// <summary>An in-memory 16 kHz source for windowing tests.</summary>
internal sealed class ArraySource(float[] samples) : IMonoAudioSource
{
    private int _pos;
    public MediaFacts Facts { get; } = new("test", "array", 16000, 1, samples.Length / 16000.0);
    public int Read(Span<float> destination)
    {
        int n = Math.Min(destination.Length, samples.Length - _pos);
        samples.AsSpan(_pos, n).CopyTo(destination);
        _pos += n;
        return n;
    }
    public void Dispose() { }
}

/// <summary>Media files shared by a test class, made once in a temp folder.</summary>
public sealed class MediaFixture : IDisposable
{
    public TempDir Dir { get; } = MediaFiles.NewTempDir("moe-audio");
    private string? _speech;

    /// <summary>About 5 s of espeak-ng speech (22.05 kHz mono WAV).</summary>
    public string Speech => _speech ??= MediaFiles.Speech(Dir.Path,
        "The quick brown fox jumps over the lazy dog. Audio decoding must work for every format we accept.", "en-us", "speech.wav");

    public void Dispose() => Dir.Dispose();
}
