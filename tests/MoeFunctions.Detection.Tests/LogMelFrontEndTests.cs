using MoeFunctions.TestSupport;
using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

public class LogMelFrontEndTests
{
    private const int Sr = 16000, Len = 48000, NFft = 512, Hop = 160, Win = 400, NMels = 80, Frames = 301;

    /// <summary>
    /// Independent float64 reference of torchaudio's MelSpectrogram with the reference parameters, by direct DFT:
    /// pre-emphasis (x[1] before x[0]), reflect pad n_fft/2, periodic Hamming(400) centred in each 512-point frame,
    /// |X|^2, torchaudio.functional.melscale_fbanks (HTK, norm=None), log(x + 1e-6), per-band mean removal.
    /// </summary>
    private static double[] ReferenceLogMel(float[] x)
    {
        var y = new double[Len];
        y[0] = x[0] - 0.97 * x[1];
        for (var n = 1; n < Len; n++) y[n] = x[n] - 0.97 * x[n - 1];
        var padded = new double[Len + NFft];
        for (var i = 0; i < padded.Length; i++)
        {
            var idx = i - NFft / 2;
            if (idx < 0) idx = -idx;
            if (idx >= Len) idx = 2 * (Len - 1) - idx;
            padded[i] = y[idx];
        }
        var window = new double[NFft];
        var offset = (NFft - Win) / 2;
        for (var j = 0; j < Win; j++) window[offset + j] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * j / Win);
        var cos = new double[NFft];
        var sin = new double[NFft];
        for (var i = 0; i < NFft; i++) { cos[i] = Math.Cos(2 * Math.PI * i / NFft); sin[i] = Math.Sin(2 * Math.PI * i / NFft); }

        var fb = MelFilterbank();
        var mel = new double[NMels * Frames];
        var frame = new double[NFft];
        for (var t = 0; t < Frames; t++)
        {
            for (var j = 0; j < NFft; j++) frame[j] = padded[t * Hop + j] * window[j];
            for (var k = 0; k <= NFft / 2; k++)
            {
                double re = 0, im = 0;
                for (var j = 0; j < NFft; j++)
                {
                    var a = k * j % NFft;
                    re += frame[j] * cos[a];
                    im -= frame[j] * sin[a];
                }
                var power = re * re + im * im;
                for (var m = 0; m < NMels; m++) mel[m * Frames + t] += fb[k, m] * power;
            }
        }
        for (var m = 0; m < NMels; m++)
        {
            var row = Enumerable.Range(0, Frames).Select(t => Math.Log(mel[m * Frames + t] + 1e-6)).ToArray();
            var mean = row.Average();
            for (var t = 0; t < Frames; t++) mel[m * Frames + t] = row[t] - mean;
        }
        return mel;
    }

    /// <summary>torchaudio.functional.melscale_fbanks(n_freqs=257, f_min=20, f_max=7600, n_mels=80, sample_rate=16000, norm=None, mel_scale="htk").</summary>
    private static double[,] MelFilterbank()
    {
        const int nFreqs = NFft / 2 + 1;
        double Mel(double f) => 2595 * Math.Log10(1 + f / 700);
        double Hz(double m) => 700 * (Math.Pow(10, m / 2595) - 1);
        var allFreqs = Enumerable.Range(0, nFreqs).Select(k => (Sr / 2.0) * k / (nFreqs - 1)).ToArray();
        double mMin = Mel(20), mMax = Mel(7600);
        var fPts = Enumerable.Range(0, NMels + 2).Select(i => Hz(mMin + (mMax - mMin) * i / (NMels + 1))).ToArray();
        var fb = new double[nFreqs, NMels];
        for (var k = 0; k < nFreqs; k++)
        for (var m = 0; m < NMels; m++)
        {
            var down = -(fPts[m] - allFreqs[k]) / (fPts[m + 1] - fPts[m]);
            var up = (fPts[m + 2] - allFreqs[k]) / (fPts[m + 2] - fPts[m + 1]);
            fb[k, m] = Math.Max(0, Math.Min(down, up));
        }
        return fb;
    }

    private static float[] Noise(int seed, double amplitude)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, Len).Select(_ => (float)((rng.NextDouble() * 2 - 1) * amplitude)).ToArray();
    }

    private static float[] Tones(params (double Hz, double Amp)[] tones) =>
        Enumerable.Range(0, Len).Select(n => (float)tones.Sum(t => t.Amp * Math.Sin(2 * Math.PI * t.Hz * n / Sr))).ToArray();

    public static TheoryData<string> Signals => new() { "noise", "tones", "chirp", "quiet-noise", "speech-like" };

    private static float[] Signal(string name) => name switch
    {
        "noise" => Noise(1, 0.3),
        "tones" => Tones((440, 0.5), (3000, 0.2), (7000, 0.05)),
        "chirp" => Enumerable.Range(0, Len).Select(n => (float)(0.4 * Math.Sin(2 * Math.PI * (50 + 2500.0 * n / Len) * n / Sr))).ToArray(),
        "quiet-noise" => Noise(2, 1e-3),
        // bursts of noise with gaps: strongly time-varying, like syllables
        "speech-like" => Noise(3, 0.5).Select((v, n) => (n / 4000) % 2 == 0 ? v : v * 0.01f).ToArray(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Signals))]
    public void Matches_the_float64_torchaudio_reference(string signal)
    {
        var x = Signal(signal);
        var fe = new LogMelFrontEnd(new FrontEndSpec());
        Assert.Equal(NMels, fe.Mels);
        Assert.Equal(Frames, fe.Frames);
        var got = new float[NMels * Frames];
        fe.Compute(x, got);
        var expected = ReferenceLogMel(x);
        var worst = expected.Select((e, i) => Math.Abs(e - got[i])).Max();
        Assert.True(worst < 1e-4, $"{signal}: max abs log-mel error {worst:g3}");
    }

    [Fact]
    public void A_tone_lights_the_band_around_its_frequency()
    {
        // Checks the reference itself against the HTK mel formula, independently of both implementations.
        var fe = new LogMelFrontEnd(new FrontEndSpec());
        var tone = Tones((1000, 0.5));
        var quiet = Noise(9, 1e-4);
        var x = tone.Zip(quiet, (a, b) => a + b).ToArray();
        var got = new float[NMels * Frames];
        fe.Compute(x, got);
        // mean removal makes rows zero-mean, so compare the raw spectrum via a non-normalised front end
        var raw = new LogMelFrontEnd(new FrontEndSpec() with { MeanNormalise = false });
        raw.Compute(x, got);
        var bandEnergy = Enumerable.Range(0, NMels).Select(m => got[m * Frames + 150]).ToArray();
        var peak = Array.IndexOf(bandEnergy, bandEnergy.Max());
        double Mel(double f) => 2595 * Math.Log10(1 + f / 700);
        var centreMel = Enumerable.Range(0, NMels).Select(m => Mel(20) + (Mel(7600) - Mel(20)) * (m + 1) / (NMels + 1)).ToArray();
        var nearest = Enumerable.Range(0, NMels).OrderBy(m => Math.Abs(centreMel[m] - Mel(1000))).First();
        Assert.InRange(peak, nearest - 1, nearest + 1);
    }

    [Fact]
    public void Silence_gives_all_zero_features_and_rows_are_zero_mean()
    {
        var fe = new LogMelFrontEnd(new FrontEndSpec());
        var got = new float[NMels * Frames];
        fe.Compute(new float[Len], got);
        Assert.All(got, v => Assert.Equal(0f, v));

        fe.Compute(Noise(4, 0.2), got);
        for (var m = 0; m < NMels; m++) Assert.InRange(got.AsSpan(m * Frames, Frames).ToArray().Average(), -1e-4, 1e-4);
    }

    [Fact]
    public void Compute_allocates_nothing_per_call()
    {
        var fe = new LogMelFrontEnd(new FrontEndSpec());
        var x = Noise(5, 0.2);
        var got = new float[NMels * Frames];
        // Over 100 calls, even the smallest array per call would be 2.4 KB.
        Assert.InRange(Allocations.OnThisThread(100, () => fe.Compute(x, got)), 0, 1024);
    }

    [Fact]
    public void Rejects_wrong_window_length_and_short_destination()
    {
        var fe = new LogMelFrontEnd(new FrontEndSpec());
        Assert.Throws<ArgumentException>(() => fe.Compute(new float[47999], new float[NMels * Frames]));
        Assert.Throws<ArgumentException>(() => fe.Compute(new float[Len], new float[NMels * Frames - 1]));
    }
}
