using System.Diagnostics;

namespace MoeFunctions.Corpus;

/// <summary>Runs a tool without a shell (ArgumentList), feeding stdin and collecting stdout as bytes.</summary>
public static class ProcessRunner
{
    public static byte[] Run(string exe, IEnumerable<string> args, byte[]? stdin = null, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {exe}");
        var errTask = p.StandardError.ReadToEndAsync();
        var ms = new MemoryStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(ms);
        // Write stdin on another task so a full stdout pipe never deadlocks us.
        var inTask = Task.Run(() =>
        {
            try
            {
                if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
                p.StandardInput.Close();
            }
            catch (IOException) { /* tool exited early; its exit code tells why */ }
        });
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(true); } catch { }
            throw new TimeoutException($"{exe} timed out after {timeoutMs} ms");
        }
        Task.WaitAll(outTask, inTask);
        var err = errTask.Result;
        if (p.ExitCode != 0)
            throw new ToolFailedException($"{exe} {string.Join(' ', psi.ArgumentList)} exited {p.ExitCode}: {Trim(err)}");
        return ms.ToArray();
    }

    static string Trim(string s) => s.Length > 400 ? s[^400..] : s;
}

public sealed class ToolFailedException(string message) : Exception(message);
