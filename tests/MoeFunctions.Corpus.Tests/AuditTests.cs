namespace MoeFunctions.Corpus.Tests;

public class AuditTests
{
    [Fact]
    public void Eer_is_zero_for_separated_scores_and_half_for_identical_ones()
    {
        Assert.Equal(0, ShortcutAudit.Eer([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 6);
        Assert.Equal(1, ShortcutAudit.Eer([0.8, 0.9, 0.1, 0.2], [0, 0, 1, 1]), 6);
        Assert.Equal(0.5, ShortcutAudit.Eer([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 6);
    }

    [Fact]
    public void Logistic_regression_learns_a_linear_boundary_and_ignores_noise_features()
    {
        var rng = new Random(7);
        var X = new double[400][]; var y = new int[400];
        for (int i = 0; i < 400; i++)
        {
            y[i] = i % 2;
            X[i] = [rng.NextDouble() + (y[i] == 1 ? 0.8 : 0), rng.NextDouble() * 100];
        }
        var m = LogisticRegression.Fit(X, y);
        var scores = X.Select(m.Score).ToArray();
        Assert.True(ShortcutAudit.Eer(scores, y) < 0.15);
    }

    static string Espeak(string dir, string name, string text, string voice, double leadSilenceS)
    {
        var wav = Signal.ParseWav(ProcessRunner.Run("espeak-ng", ["-v", voice, "--stdout", text]));
        var s = SignalOps.Resample(wav, 16000);
        var pad = new float[(int)(leadSilenceS * 16000)];
        var withLead = new Signal([.. pad, .. s.Samples], 16000);
        var rel = name + ".wav";
        SignalOps.NormaliseLoudness(withLead, -26).WriteWav(Path.Combine(dir, rel));
        return rel;
    }

    [Fact]
    public void Audit_fails_the_domain_whose_fakes_carry_a_leading_silence_shortcut()
    {
        var dir = TestPaths.NewTempDir("audit");
        try
        {
            string[] words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hello", "world"];
            var rows = new List<ManifestRow>();
            for (int i = 0; i < words.Length; i++)
            {
                // D1 (leaky): every fake starts after 1 s of silence. D2 (fair): silence drawn alike for both.
                rows.Add(Row(Espeak(dir, $"a{i}r", words[i], "en-us+m1", 0.1), "bonafide", "D1"));
                rows.Add(Row(Espeak(dir, $"a{i}f", words[i], "en-us+m3", 1.0), "spoof", "D1"));
                rows.Add(Row(Espeak(dir, $"b{i}r", words[i], "en-us+m1", 0.1 * (i % 3)), "bonafide", "D2"));
                rows.Add(Row(Espeak(dir, $"b{i}f", words[i], "en-us+m3", 0.1 * ((i + 1) % 3)), "spoof", "D2"));
            }
            Manifest.Write(Path.Combine(dir, "manifest.csv"), rows);
            var report = ShortcutAudit.Run(Path.Combine(dir, "manifest.csv"), 1);
            var d1 = report.Domains.Single(d => d.Domain == "D1");
            Assert.False(d1.Passed, report.ToMarkdown());
            Assert.True(d1.FeatureEers["lead_silence_s"] < 0.1, report.ToMarkdown());
            Assert.False(report.Passed);
            var d2 = report.Domains.Single(d => d.Domain == "D2");
            Assert.True(d2.FeatureEers["lead_silence_s"] > 0.3, report.ToMarkdown());
        }
        finally { Directory.Delete(dir, true); }
    }

    static ManifestRow Row(string path, string label, string domain) =>
        new(path, label, domain, "train", "s", "test", label == "spoof" ? "espeak-ng" : "human", "CC0-1.0", 1);

    [Fact]
    public void Features_see_energy_above_4k_only_in_wideband_audio()
    {
        var s = SignalOps.Resample(Signal.ParseWav(ProcessRunner.Run("espeak-ng", ["-v", "en-us", "--stdout", "seven sisters sing"])), 16000);
        var narrow = new ChannelPath(true, false, Codec.None, 0).Apply(s);
        var wide = ShortcutAudit.Features(s);
        var nb = ShortcutAudit.Features(narrow);
        Assert.True(nb[3] < wide[3] - 20, $"above-4k {nb[3]:0.0} dB vs {wide[3]:0.0} dB");
        Assert.True(nb[2] < 4000);
    }
}

public class SignalTests
{
    [Fact]
    public void Fft_round_trips_and_finds_a_tone()
    {
        var x = new System.Numerics.Complex[256];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sin(2 * Math.PI * 10 * i / 256);
        var copy = (System.Numerics.Complex[])x.Clone();
        Fft.Forward(x);
        Assert.Equal(128, x[10].Magnitude, 6);
        Assert.True(x[11].Magnitude < 1e-9);
        Fft.Inverse(x);
        for (int i = 0; i < x.Length; i++) Assert.Equal(copy[i].Real, x[i].Real, 9);
    }

    [Fact]
    public void Resampling_to_8k_and_back_keeps_a_1kHz_tone_and_removes_a_6kHz_one()
    {
        var tone = (double f) => new Signal(Enumerable.Range(0, 16000).Select(i => (float)(0.5 * Math.Sin(2 * Math.PI * f * i / 16000))).ToArray(), 16000);
        double Rms(Signal s) => Math.Sqrt(s.Samples.Skip(1000).Take(14000).Average(v => (double)v * v));
        var low = SignalOps.Resample(SignalOps.Resample(tone(1000), 8000), 16000);
        var high = SignalOps.Resample(SignalOps.Resample(tone(6000), 8000), 16000);
        Assert.InRange(Rms(low) / Rms(tone(1000)), 0.95, 1.05);
        Assert.True(Rms(high) / Rms(tone(6000)) < 0.01);
    }

    [Fact]
    public void Trimming_ignores_noise_spikes_before_the_speech()
    {
        var rng = new Random(3);
        var x = new float[32000];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() - 0.5) * 0.004);    // noise floor
        for (int i = 16000; i < 20000; i++) x[i] += (float)(0.3 * Math.Sin(2 * Math.PI * 200 * i / 16000)); // "speech"
        var t = SignalOps.TrimSilence(new Signal(x, 16000));
        Assert.InRange(t.DurationS, 0.25, 0.5);
    }
}
