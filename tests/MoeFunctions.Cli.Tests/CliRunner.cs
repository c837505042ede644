using MoeFunctions.Cli;
using Spectre.Console.Testing;

namespace MoeFunctions.Cli.Tests;

/// <summary>Runs `moe` in-process through the real CommandApp with a TestConsole, capturing exit code and output.</summary>
public static class CliRunner
{
    public sealed record Run(int ExitCode, string Output);

    public static Task<Run> RunAsync(params string[] args) => RunAsync(interactive: false, args);

    /// <param name="interactive">Pretend to be a terminal, so the live progress bar runs.</param>
    public static async Task<Run> RunAsync(bool interactive, params string[] args)
    {
        var console = new TestConsole();
        console.Profile.Width = 400; // no wrapping: assertions look for whole file names and messages
        console.Profile.Capabilities.Interactive = interactive;
        var code = await MoeApp.Create(console).RunAsync(args);
        return new Run(code, console.Output);
    }
}
