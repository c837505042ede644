using System.ComponentModel;
using MoeFunctions.Corpus;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MoeFunctions.Cli.Commands.Corpus;

/// <summary>`moe corpus build` and `moe corpus audit` (issue 3). Program.cs calls <see cref="Register"/>.</summary>
public static class CorpusCommands
{
    public static void Register(IConfigurator config) =>
        config.AddBranch("corpus", corpus =>
        {
            corpus.SetDescription("Build and audit the four-domain training corpus.");
            corpus.AddCommand<CorpusBuildCommand>("build").WithDescription("Build the corpus (resumable, deterministic from --seed), then audit it.");
            corpus.AddCommand<CorpusAuditCommand>("audit").WithDescription("Run the shortcut audit on a built corpus.");
        });
}

public class CorpusSettings : CommandSettings
{
    [CommandOption("--out <DIR>")]
    [Description("Corpus root (default: corpus)")]
    public string Output { get; init; } = "corpus";

    [CommandOption("--seed <N>")]
    [Description("Seed of every random choice (default 1234)")]
    public int Seed { get; init; } = 1234;
}

public sealed class CorpusBuildSettings : CorpusSettings
{
    [CommandOption("--shared <DIR>")]
    [Description("The shared speech data folder with manifest.csv (default /work/shared/data)")]
    public string SharedData { get; init; } = "/work/shared/data";

    [CommandOption("--domains <LIST>")]
    [Description("Comma-separated domains to build (default D1,D2,D3,D4)")]
    public string Domains { get; init; } = "D1,D2,D3,D4";

    [CommandOption("--limit <N>")]
    [Description("At most N bona fide source items per domain (a quick subset)")]
    public int? Limit { get; init; }

    [CommandOption("--parallel <N>")]
    [Description("Jobs at a time (default 2)")]
    public int Parallel { get; init; } = 2;

    [CommandOption("--no-audit")]
    [Description("Skip the shortcut audit after building")]
    public bool NoAudit { get; init; }
}

public sealed class CorpusBuildCommand : Command<CorpusBuildSettings>
{
    public override int Execute(CommandContext context, CorpusBuildSettings s, CancellationToken cancellationToken)
    {
        var o = new CorpusOptions
        {
            SharedData = s.SharedData, Output = s.Output, Seed = s.Seed, LimitPerDomain = s.Limit,
            Parallelism = Math.Max(1, s.Parallel), Domains = s.Domains.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
        var result = new CorpusBuilder(o).Build();
        AnsiConsole.WriteLine(result.Summary);
        if (result.Failures.Count > 0)
            AnsiConsole.MarkupLineInterpolated($"[yellow]{result.Failures.Count} jobs failed; see {Path.Combine(o.Output, "failures.txt")}[/]");
        return s.NoAudit ? 0 : CorpusAuditCommand.RunAudit(o.Output, o.Seed);
    }
}

public sealed class CorpusAuditCommand : Command<CorpusSettings>
{
    public override int Execute(CommandContext context, CorpusSettings s, CancellationToken cancellationToken) => RunAudit(s.Output, s.Seed);

    internal static int RunAudit(string root, int seed)
    {
        var manifest = Path.Combine(root, "manifest.csv");
        if (!File.Exists(manifest))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{manifest} not found: build the corpus first (moe corpus build)[/]");
            return 2;
        }
        var report = ShortcutAudit.Run(manifest, seed);
        var table = new Table().AddColumns("domain", "files", "LR EER", "verdict");
        foreach (var d in report.Domains)
            table.AddRow(d.Domain, d.Files.ToString(), $"{100 * d.Eer:0.0} %", d.Passed ? "[green]pass[/]" : "[red]FAIL[/]");
        AnsiConsole.Write(table);
        File.WriteAllText(Path.Combine(root, "audit.md"), report.ToMarkdown());
        return report.Passed ? 0 : 1;
    }
}
