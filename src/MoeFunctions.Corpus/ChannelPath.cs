using System.Globalization;

namespace MoeFunctions.Corpus;

/// <summary>Lossy codec a clip passes through (encode, then decode back).</summary>
public enum Codec { None, Mp3, Opus, MuLaw, ALaw, Gsm }

/// <summary>
/// One concrete band + codec path: the clip is optionally band-limited to 8 kHz sampling (telephone
/// style with <see cref="Telephone"/>), encoded with <see cref="Codec"/> and decoded back to 16 kHz.
/// A domain draws one of these per file from the same distribution for both classes.
/// </summary>
public sealed record ChannelPath(bool Narrowband, bool Telephone, Codec Codec, int BitrateK)
{
    public static readonly ChannelPath Clean = new(false, false, Codec.None, 0);

    public override string ToString() =>
        $"{(Telephone ? "tel" : Narrowband ? "nb" : "wb")}-{Codec.ToString().ToLowerInvariant()}{(BitrateK > 0 ? BitrateK + "k" : "")}";

    /// <summary>
    /// Band-limits in process (resampling to 8 kHz and back, or a 300-3400 Hz telephone band), then encodes and
    /// decodes with the codec: G.711 companding in process, MP3 with lame, Opus with opusenc/opusdec, GSM with
    /// ffmpeg. Returns 16 kHz audio. (The small codec tools start in milliseconds; ffmpeg needs far longer.)
    /// </summary>
    public Signal Apply(Signal s)
    {
        var x = SignalOps.Resample(s, 16000);
        if (Narrowband || Telephone) x = SignalOps.Resample(x, 8000);
        if (Telephone) x = SignalOps.BandPass(x, 300, 3400);
        string rate = x.Rate.ToString(CultureInfo.InvariantCulture), kbps = BitrateK.ToString(CultureInfo.InvariantCulture);
        Signal coded = Codec switch
        {
            Codec.None => x,
            Codec.MuLaw => new Signal(G711(x.Samples, mu: true), x.Rate),
            Codec.ALaw => new Signal(G711(x.Samples, mu: false), x.Rate),
            Codec.Mp3 => Signal.ParseWav(ProcessRunner.Run("lame", ["--quiet", "--decode", "--mp3input", "-", "-"],
                ProcessRunner.Run("lame", ["--quiet", "-r", "-s", (x.Rate / 1000.0).ToString(CultureInfo.InvariantCulture), "--bitwidth", "16",
                    "--signed", "--little-endian", "-m", "m", "-b", kbps, "-", "-"], ToS16(x.Samples)))),
            Codec.Opus => new Signal(FromS16(ProcessRunner.Run("opusdec", ["--quiet", "--rate", rate, "-", "-"],
                ProcessRunner.Run("opusenc", ["--quiet", "--raw", "--raw-rate", rate, "--raw-chan", "1", "--raw-bits", "16",
                    "--bitrate", kbps, "-", "-"], ToS16(x.Samples)))), x.Rate),
            Codec.Gsm => new Signal(Signal.FromF32(ProcessRunner.Run("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "gsm", "-i", "-",
                "-ac", "1", "-ar", "8000", "-f", "f32le", "-"],
                ProcessRunner.Run("ffmpeg", ["-nostdin", "-loglevel", "error", "-f", "f32le", "-ar", rate, "-ac", "1", "-i", "-",
                    "-ar", "8000", "-c:a", "libgsm", "-f", "gsm", "-"], x.ToF32()))), 8000),
            _ => throw new ArgumentOutOfRangeException(nameof(Codec)),
        };
        return SignalOps.Resample(coded, 16000);
    }

    /// <summary>G.711-style 8-bit logarithmic companding (mu-law 255 or A-law 87.6), quantised and expanded back.</summary>
    static float[] G711(float[] x, bool mu)
    {
        const double Mu = 255, A = 87.6;
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double v = Math.Clamp(x[i], -1f, 1f), a = Math.Abs(v);
            double c = mu ? Math.Log(1 + Mu * a) / Math.Log(1 + Mu)
                          : a < 1 / A ? A * a / (1 + Math.Log(A)) : (1 + Math.Log(A * a)) / (1 + Math.Log(A));
            double q = Math.Round(c * 127) / 127; // 7 magnitude bits + sign = 8 bits
            double e = mu ? (Math.Pow(1 + Mu, q) - 1) / Mu
                          : q < 1 / (1 + Math.Log(A)) ? q * (1 + Math.Log(A)) / A : Math.Exp(q * (1 + Math.Log(A)) - 1) / A;
            y[i] = (float)(Math.Sign(v) * e);
        }
        return y;
    }

    static byte[] ToS16(float[] x)
    {
        var b = new byte[x.Length * 2];
        for (int i = 0; i < x.Length; i++)
            BitConverter.TryWriteBytes(b.AsSpan(i * 2), (short)Math.Clamp(MathF.Round(x[i] * 32767f), -32768, 32767));
        return b;
    }

    static float[] FromS16(byte[] b)
    {
        var y = new float[b.Length / 2];
        for (int i = 0; i < y.Length; i++) y[i] = BitConverter.ToInt16(b, i * 2) / 32768f;
        return y;
    }
}
