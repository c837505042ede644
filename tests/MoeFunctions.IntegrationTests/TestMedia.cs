using System.Diagnostics;

namespace MoeFunctions.IntegrationTests;

/// <summary>Real media made by the tests: espeak-ng speech, converted with ffmpeg; silence from ffmpeg's lavfi.</summary>
public static class TestMedia
{
    private static readonly string Dir = Directory.CreateTempSubdirectory("moe-cloud-media-").FullName;

    public const string Sentence =
        "The quarterly report is ready. Please review the attached figures before the meeting on Thursday, " +
        "and send your comments to the finance team by the end of the week.";

    /// <summary>About ten seconds of synthetic speech at 22.05 kHz.</summary>
    public static string SpeechWav()
    {
        string path = Path.Combine(Dir, "speech.wav");
        if (!File.Exists(path)) Run("espeak-ng", "-s", "140", "-w", path, Sentence);
        return path;
    }

    public static string SpeechMp3()
    {
        string path = Path.Combine(Dir, "speech.mp3");
        if (!File.Exists(path)) Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", SpeechWav(), "-ar", "44100", "-ac", "2", "-b:a", "96k", path);
        return path;
    }

    public static string SilenceWav(double seconds)
    {
        string path = Path.Combine(Dir, $"silence-{seconds}.wav");
        if (!File.Exists(path))
            Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", $"anullsrc=r=16000:cl=mono", "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-c:a", "pcm_s16le", path);
        return path;
    }

    private static void Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{tool} did not start (install it: scripts/deps/base.apt)");
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(); throw new TimeoutException($"{tool} ran over a minute"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {err}");
    }
}
