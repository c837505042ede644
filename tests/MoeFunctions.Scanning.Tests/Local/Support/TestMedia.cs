using System.Diagnostics;
using System.Globalization;

namespace MoeFunctions.Scanning.Tests.Local;

/// <summary>
/// Real media files for the scan tests, made with espeak-ng and ffmpeg (scripts/deps/scan.apt).
/// Shared by the Scanning and Cli test projects (linked source).
/// </summary>
public static class TestMedia
{
    /// <summary>espeak-ng speech; the extension picks the container (wav straight from espeak-ng, anything else through ffmpeg).</summary>
    public static string Speech(string path, string text, string voice = "en")
    {
        var wav = path.EndsWith(".wav", StringComparison.OrdinalIgnoreCase) ? path : path + ".espeak.wav";
        Run("espeak-ng", "-v", voice, "-s", "160", "-w", wav, text);
        if (wav == path) return path;
        Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", wav, path);
        File.Delete(wav);
        return path;
    }

    /// <summary>Digital silence as 16 kHz mono (no speech anywhere: every window is not applicable).</summary>
    public static string Silence(string path, double seconds)
    {
        Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
            $"anullsrc=r=16000:cl=mono", "-t", seconds.ToString(CultureInfo.InvariantCulture), path);
        return path;
    }

    /// <summary>Speech repeated to at least <paramref name="seconds"/> (several windows per file).</summary>
    public static string LongSpeech(string path, string text, double seconds)
    {
        var one = Speech(path + ".one.wav", text);
        Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i", one,
            "-t", seconds.ToString(CultureInfo.InvariantCulture), path);
        File.Delete(one);
        return path;
    }

    public static void Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{exe} did not start");
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120))) { p.Kill(true); throw new TimeoutException($"{exe} timed out"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed: {err.Result}");
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class ScratchDir : IDisposable
{
    public ScratchDir(string prefix = "moe-scan-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string relative)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
