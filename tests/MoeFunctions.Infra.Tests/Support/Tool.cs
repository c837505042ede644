using System.Diagnostics;

namespace MoeFunctions.Infra.Tests.Support;

/// <summary>Result of one external command.</summary>
public sealed record ToolRun(int ExitCode, string StdOut, string StdErr)
{
    public string Output => StdOut + StdErr;
    public override string ToString() => $"exit {ExitCode}\n{StdOut}\n{StdErr}";
}

public static class Tool
{
    /// <summary>Runs a command to completion; a hang becomes a failed run, not a stuck test.</summary>
    public static ToolRun Run(string fileName, IEnumerable<string> args, string? workingDirectory = null, int timeoutSeconds = 120)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        // Offline machines: keep bicep from trying to reach module registries or telemetry.
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill(entireProcessTree: true);
            return new ToolRun(-1, stdout.Result, $"timed out after {timeoutSeconds} s\n{stderr.Result}");
        }
        return new ToolRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}
