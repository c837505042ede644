using System.Diagnostics;
using System.Globalization;

namespace MoeFunctions.Benchmarks;

/// <summary>Benchmark media: espeak-ng speech looped to length by ffmpeg, encoded per format. Files are cached in the work folder by name and length.</summary>
public sealed class MediaMaker(string directory)
{
    /// <summary>Format name, extension, ffmpeg output arguments (typical consumer settings: 44.1/48 kHz stereo, so decode includes downmix and resampling).</summary>
    public static readonly IReadOnlyList<(string Format, string Extension, string[] Args)> Formats =
    [
        ("WAV", ".wav", ["-ar", "44100", "-ac", "2", "-c:a", "pcm_s16le"]),
        ("MP3", ".mp3", ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"]),
        ("Vorbis", ".ogg", ["-ar", "44100", "-ac", "2", "-c:a", "libvorbis", "-q:a", "4"]),
        ("Opus", ".opus", ["-ar", "48000", "-ac", "2", "-c:a", "libopus", "-b:a", "64k"]),
        ("FLAC", ".flac", ["-ar", "44100", "-ac", "2", "-c:a", "flac"]),
        ("M4A (AAC, via ffmpeg)", ".m4a", ["-ar", "44100", "-ac", "2", "-c:a", "aac", "-b:a", "128k"]),
    ];

    private const string Text =
        "A library scan is judged by audio hours per hour of compute. The scanner decodes each file, cuts it into three second " +
        "windows, computes a log mel spectrogram, asks the gate which experts to trust, and fuses their answers into one " +
        "calibrated probability. Numbers, dates and names: on the fourth of July, nineteen seventy six, at half past seven.";

    public string Directory { get; } = System.IO.Directory.CreateDirectory(directory).FullName;

    /// <summary>The espeak-ng source clip for a voice (about 20 s).</summary>
    private string Speech(string voice)
    {
        var path = Path.Combine(Directory, $"speech-{voice.Replace('+', '_')}.wav");
        if (!File.Exists(path)) Tool("espeak-ng", ["-v", voice, "-s", "160", "-w", path + ".tmp", Text], path);
        return path;
    }

    /// <summary>Speech looped to <paramref name="seconds"/> and encoded with <paramref name="args"/>.</summary>
    public string Make(string name, double seconds, string extension, string[] args, string voice = "en")
    {
        var path = Path.Combine(Directory, $"{name}-{seconds.ToString("F0", CultureInfo.InvariantCulture)}s{extension}");
        if (File.Exists(path)) return path;
        var tmp = path + ".tmp" + extension;
        List<string> a = ["-nostdin", "-y", "-v", "error", "-stream_loop", "-1", "-i", Speech(voice),
            "-t", seconds.ToString(CultureInfo.InvariantCulture), .. args, tmp];
        Tool("ffmpeg", a, path, tmp);
        return path;
    }

    private static void Tool(string file, IReadOnlyList<string> args, string finalPath, string? tmp = null)
    {
        tmp ??= args.First(a => a.EndsWith(".tmp", StringComparison.Ordinal));
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        var err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(15))) { p.Kill(); throw new TimeoutException($"{file} took too long"); }
        if (p.ExitCode != 0 || !File.Exists(tmp)) throw new InvalidOperationException($"{file} failed ({p.ExitCode}): {err}");
        File.Move(tmp, finalPath, overwrite: true);
    }
}
