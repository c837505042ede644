using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace MoeFunctions.TestSupport;

/// <summary>
/// Makes real media files for tests with the tools scripts/deps/audio.apt installs (ffmpeg, sox, espeak-ng, flac).
/// Every method writes into the folder it is given and returns the new file's path; the output format follows the
/// extension, and extra ffmpeg arguments (codec, bitrate, sample format) go before the output name.
/// </summary>
public static class MediaFiles
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);

    /// <summary>A sine of <paramref name="hz"/> at <paramref name="amplitude"/> (peak, 0..1) on every channel.</summary>
    public static string Tone(string dir, string name, double hz, double seconds, int rate = 16000, int channels = 1,
                              double amplitude = 0.5, params string[] outputArgs) =>
        Synth(dir, name, $"{F(amplitude)}*sin(2*PI*{F(hz)}*t)", seconds, rate, channels, outputArgs);

    /// <summary>Any ffmpeg aevalsrc expression of t (seconds), e.g. a sum of sines; one expression per channel separated by '|', or one for all.</summary>
    public static string Synth(string dir, string name, string expression, double seconds, int rate = 16000, int channels = 1,
                               params string[] outputArgs)
    {
        string exprs = expression.Contains('|') ? expression : string.Join('|', Enumerable.Repeat(expression, channels));
        var args = new List<string> { "-f", "lavfi", "-i", $"aevalsrc={exprs}:s={rate}:d={F(seconds)}" };
        args.AddRange(outputArgs);
        return Ffmpeg(args, Path.Combine(dir, name));
    }

    /// <summary>White noise (ffmpeg anoisesrc) at the given peak amplitude.</summary>
    public static string Noise(string dir, string name, double seconds, int rate = 16000, double amplitude = 0.5, params string[] outputArgs)
    {
        var args = new List<string> { "-f", "lavfi", "-i", $"anoisesrc=color=white:a={F(amplitude)}:r={rate}:d={F(seconds)}:seed=42" };
        args.AddRange(outputArgs);
        return Ffmpeg(args, Path.Combine(dir, name));
    }

    /// <summary>Digital silence.</summary>
    public static string Silence(string dir, string name, double seconds, int rate = 16000, int channels = 1, params string[] outputArgs) =>
        Synth(dir, name, "0", seconds, rate, channels, outputArgs);

    /// <summary>espeak-ng speech as 22.05 kHz mono WAV (espeak-ng's own output), optionally converted by extension.</summary>
    public static string Speech(string dir, string text, string voice = "en", string name = "speech.wav", int wordsPerMinute = 160)
    {
        string wav = Path.Combine(dir, Path.GetFileNameWithoutExtension(name) + ".espeak.wav");
        Run("espeak-ng", ["-v", voice, "-s", wordsPerMinute.ToString(CultureInfo.InvariantCulture), "-w", wav, text]);
        if (Path.GetExtension(name).Equals(".wav", StringComparison.OrdinalIgnoreCase))
        {
            string dst = Path.Combine(dir, name);
            File.Move(wav, dst, overwrite: true);
            return dst;
        }
        return Convert(wav, Path.Combine(dir, name));
    }

    /// <summary>Converts <paramref name="src"/> with ffmpeg; <paramref name="dst"/> is a path or just an extension (".flac") next to the source.</summary>
    public static string Convert(string src, string dst, params string[] outputArgs)
    {
        if (dst.StartsWith('.')) dst = Path.ChangeExtension(src, null) + "." + Guid.NewGuid().ToString("N")[..6] + dst;
        var args = new List<string> { "-i", src };
        args.AddRange(outputArgs);
        return Ffmpeg(args, dst);
    }

    /// <summary>Runs ffmpeg with input arguments and writes <paramref name="output"/> (overwriting).</summary>
    public static string Ffmpeg(IEnumerable<string> args, string output)
    {
        var all = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error", "-y" };
        all.AddRange(args);
        all.Add(output);
        Run("ffmpeg", all);
        return output;
    }

    /// <summary>ffmpeg's own decode of <paramref name="path"/> as raw bytes, e.g. <c>FfmpegDecode(p, "-f", "s16le")</c>.</summary>
    public static byte[] FfmpegDecode(string path, params string[] outputArgs)
    {
        var args = new List<string> { "-nostdin", "-hide_banner", "-loglevel", "error", "-i", path };
        args.AddRange(outputArgs);
        args.Add("pipe:1");
        return Run("ffmpeg", args);
    }

    /// <summary>ffmpeg's decode as interleaved doubles (f64le), native rate and channels unless the arguments say otherwise.</summary>
    public static double[] FfmpegDecodeDoubles(string path, params string[] extraArgs)
    {
        var bytes = FfmpegDecode(path, [.. extraArgs, "-f", "f64le"]);
        return MemoryMarshal.Cast<byte, double>(bytes).ToArray();
    }

    /// <summary>Runs a tool without a shell; returns its stdout; throws with stderr when it fails or outlasts
    /// <paramref name="timeout"/> (default two minutes).</summary>
    public static byte[] Run(string exe, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{exe} did not start");
        var stderr = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(ms);
        if (!p.WaitForExit(timeout ?? ToolTimeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{exe} {string.Join(' ', psi.ArgumentList)} timed out");
        }
        copy.Wait();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{exe} {string.Join(' ', psi.ArgumentList)} failed ({p.ExitCode}): {stderr.Result}");
        return ms.ToArray();
    }

    /// <summary>True when <paramref name="exe"/> is on the PATH.</summary>
    public static bool ToolAvailable(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, exe)));

    /// <summary>A fresh folder under the temp directory; delete it with <see cref="TempDir.Dispose"/>.</summary>
    public static TempDir NewTempDir(string prefix = "moe-test") => new(prefix);

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A temporary folder removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
