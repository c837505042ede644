using MoeFunctions.Cli.Commands.Corpus;
using MoeFunctions.Cli.Commands.Scan;
using MoeFunctions.Cli.Commands.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MoeFunctions.Cli;

/// <summary>Builds the `moe` command app. Tests call <see cref="Create"/> with a TestConsole and RunAsync in-process.</summary>
public static class MoeApp
{
    public static CommandApp Create(IAnsiConsole console)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.ConfigureConsole(console);
            Configure(config);
        });
        return app;
    }

    public static void Configure(IConfigurator config)
    {
        config.SetApplicationName("moe");
        config.Settings.StrictParsing = true; // a mistyped option is an error, not a silently ignored argument
        config.Settings.CancellationExitCode = ExitCodes.Cancelled;
        // Parse and validation errors and unexpected exceptions all end as a usage/model error.
        config.SetExceptionHandler((ex, _) =>
        {
            var console = config.Settings.Console ?? AnsiConsole.Console;
            console.MarkupLineInterpolated($"[red]error:[/] {(ex is CommandAppException { Pretty: null } or not CommandAppException ? ex.Message : "")}");
            if (ex is CommandAppException { Pretty: { } pretty }) console.Write(pretty);
            return ExitCodes.UsageError;
        });

        ScanCommand.Register(config);
        TrainingCommands.Register(config);
        CorpusCommands.Register(config);
    }
}
