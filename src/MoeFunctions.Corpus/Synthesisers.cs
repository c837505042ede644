using System.Globalization;
using System.Text;

namespace MoeFunctions.Corpus;

/// <summary>A text-to-speech voice of an installed synthesiser, addressed as "engine:voice".</summary>
public sealed record TtsVoice(string Engine, string Voice, string Language)
{
    public string Id => $"{Engine}:{Voice}";

    /// <summary>Speaks <paramref name="text"/>; <paramref name="stretch"/> &gt; 1 speaks slower.</summary>
    public Signal Speak(string text, double stretch = 1.0)
    {
        text = text.Replace('\n', ' ').Trim();
        return Engine switch
        {
            "espeak-ng" => Signal.ParseWav(ProcessRunner.Run("espeak-ng",
                ["-v", Voice, "-s", Math.Clamp((int)Math.Round(175 / stretch), 70, 450).ToString(CultureInfo.InvariantCulture), "--stdout", "--stdin"],
                Encoding.UTF8.GetBytes(text))),
            "flite" => WithTemp(".wav", wav =>
            {
                ProcessRunner.Run("flite", ["-voice", Voice, "--setf", "duration_stretch=" + F(stretch), "-t", text, "-o", wav]);
                return Signal.ReadWav(wav);
            }),
            "festival" => WithTemp(".wav", wav => WithTemp(".txt", txt =>
            {
                // Festival's diphone voices read Latin-1.
                File.WriteAllBytes(txt, Encoding.Latin1.GetBytes(text));
                ProcessRunner.Run("text2wave", ["-o", wav, "-eval", $"(voice_{Voice})",
                    "-eval", $"(Parameter.set 'Duration_Stretch {F(stretch)})", txt]);
                return Signal.ReadWav(wav);
            })),
            _ => throw new NotSupportedException($"unknown engine {Engine}"),
        };
    }

    static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    static T WithTemp<T>(string ext, Func<string, T> use)
    {
        var path = Path.Combine(Path.GetTempPath(), "moe-corpus-" + Guid.NewGuid().ToString("N") + ext);
        try { return use(path); }
        finally { try { File.Delete(path); } catch (IOException) { } }
    }
}

/// <summary>Codec 2 (Debian codec2: c2enc/c2dec) at a low bit rate, 8 kHz narrowband by design.</summary>
public static class Codec2
{
    public static Signal Resynthesise(Signal s, string mode)
    {
        var x8 = SignalOps.Resample(s, 8000).Samples;
        var pcm8 = new byte[x8.Length * 2];
        for (int i = 0; i < x8.Length; i++)
            BitConverter.TryWriteBytes(pcm8.AsSpan(i * 2), (short)Math.Clamp(MathF.Round(x8[i] * 32767f), -32768, 32767));
        var bits = ProcessRunner.Run("c2enc", [mode, "-", "-"], pcm8);
        var outPcm = ProcessRunner.Run("c2dec", [mode, "-", "-"], bits);
        var y = new float[outPcm.Length / 2];
        for (int i = 0; i < y.Length; i++) y[i] = BitConverter.ToInt16(outPcm, i * 2) / 32768f;
        return new Signal(y, 8000);
    }
}
