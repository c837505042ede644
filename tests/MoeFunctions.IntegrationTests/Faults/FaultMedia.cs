using System.Diagnostics;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>About two seconds of espeak-ng speech, made once per test run and uploaded under many names.</summary>
public static class FaultMedia
{
    private static readonly Lazy<string> Speech = new(() =>
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("moe-faults-media-").FullName, "short.wav");
        var psi = new ProcessStartInfo("espeak-ng") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-s", "160", "-w", path, "Please call me back before noon." }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("espeak-ng did not start (scripts/deps/base.apt)");
        string err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(60_000) || p.ExitCode != 0) throw new InvalidOperationException($"espeak-ng failed: {err}");
        return path;
    });

    public static string ShortSpeechWav() => Speech.Value;
}
