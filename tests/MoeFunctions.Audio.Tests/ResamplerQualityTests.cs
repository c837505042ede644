using MoeFunctions.TestSupport;
using Xunit.Abstractions;

namespace MoeFunctions.Audio.Tests;

/// <summary>
/// Resampler quality through the whole pipeline (float WAV in, 16 kHz out): tones in the passband keep their amplitude,
/// tones above the new Nyquist (8 kHz) are removed instead of aliasing into the speech band. The measured numbers are
/// written to the test output and quoted in docs/audio.md.
/// </summary>
public sealed class ResamplerQualityTests(MediaFixture media, ITestOutputHelper output) : IClassFixture<MediaFixture>
{
    private const double Amplitude = 0.5;

    [Theory]
    [InlineData(48000)]
    [InlineData(44100)]
    [InlineData(22050)]
    public void Passband_tones_keep_their_amplitude(int rate)
    {
        foreach (var (hz, maxDevDb) in new[] { (1000.0, 0.01), (3000.0, 0.01), (7000.0, 0.1) })
        {
            float[] y = Decode(rate, hz);
            double amp = TestAudio.ToneAmplitude(y.AsSpan(4000, 16000), hz);
            double devDb = 20 * Math.Log10(amp / Amplitude);
            output.WriteLine($"{rate} Hz -> 16 kHz, {hz} Hz tone: gain {devDb:F4} dB");
            Assert.True(Math.Abs(devDb) <= maxDevDb, $"{hz} Hz at {rate} Hz: gain {devDb:F4} dB");
        }
    }

    [Theory]
    [InlineData(48000)]
    [InlineData(44100)]
    [InlineData(22050)]
    public void Tones_above_8_kHz_are_attenuated_by_at_least_100_dB(int rate)
    {
        foreach (double hz in new[] { 8500.0, 9000, 10000, 12000, 15000, 20000 })
        {
            if (hz >= rate / 2.0) continue;
            float[] y = Decode(rate, hz);
            // Everything left in the output (the alias lands at |hz - 16000k|, inside 0..8 kHz) counts as leakage.
            double leakDb = 20 * Math.Log10(TestAudio.Rms(y.AsSpan(4000, 16000)) / (Amplitude / Math.Sqrt(2)));
            output.WriteLine($"{rate} Hz -> 16 kHz, {hz} Hz tone: residual {leakDb:F1} dB");
            Assert.True(leakDb <= -100, $"{hz} Hz at {rate} Hz leaks at {leakDb:F1} dB");
        }
    }

    [Fact]
    public void Upsampling_8_kHz_keeps_the_tone_and_rejects_its_image()
    {
        float[] y = Decode(8000, 3000);
        double gainDb = 20 * Math.Log10(TestAudio.ToneAmplitude(y.AsSpan(4000, 16000), 3000) / Amplitude);
        double imageDb = 20 * Math.Log10(TestAudio.ToneAmplitude(y.AsSpan(4000, 16000), 5000) / Amplitude);
        output.WriteLine($"8000 Hz -> 16 kHz, 3000 Hz tone: gain {gainDb:F4} dB, image at 5000 Hz {imageDb:F1} dB");
        Assert.True(Math.Abs(gainDb) <= 0.01, $"gain {gainDb:F4} dB");
        Assert.True(imageDb <= -100, $"image {imageDb:F1} dB");
    }

    [Theory]
    [InlineData(44101)]  // 16000 phases: too large a table, so the Speex fallback runs
    [InlineData(37800)]
    public void Odd_rates_are_resampled_too(int rate)
    {
        float[] y = Decode(rate, 1000);
        Assert.InRange(y.Length, 23999, 24001);
        double gainDb = 20 * Math.Log10(TestAudio.ToneAmplitude(y.AsSpan(4000, 16000), 1000) / Amplitude);
        output.WriteLine($"{rate} Hz -> 16 kHz, 1000 Hz tone: gain {gainDb:F4} dB");
        Assert.True(Math.Abs(gainDb) <= 0.01, $"gain {gainDb:F4} dB");
    }

    [Fact]
    public void Output_length_and_timing_follow_the_input()
    {
        // A click at exactly 1.000 s of a 44.1 kHz file must come out at sample 16000, and 2.5 s in gives 40000 out.
        string path = MediaFiles.Synth(media.Dir.Path, "click.wav", "if(between(t\\,1\\,1+1/44100)\\,0.9\\,0)", 2.5, 44100, 1, "-c:a", "pcm_f32le");
        float[] y = TestAudio.DecodeFile(path);
        Assert.Equal(40000, y.Length);
        int peak = Array.IndexOf(y, y.Max());
        Assert.InRange(peak, 15999, 16001);
    }

    private float[] Decode(int rate, double hz)
    {
        string path = MediaFiles.Tone(media.Dir.Path, $"tone-{rate}-{hz}.wav", hz, 1.5, rate, 1, Amplitude, "-c:a", "pcm_f32le", "-ar", rate.ToString());
        return TestAudio.DecodeFile(path);
    }
}
