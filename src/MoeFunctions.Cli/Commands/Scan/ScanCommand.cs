using MoeFunctions.Audio;
using MoeFunctions.Cli.Reports;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Local;
using MoeFunctions.Scanning.Pipeline;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MoeFunctions.Cli.Commands.Scan;

/// <summary>`moe scan PATH...`: expand inputs, load and verify the bundle, run the in-process pipeline, write the outputs.</summary>
public sealed class ScanCommand(IAnsiConsole console) : AsyncCommand<ScanSettings>
{
    public static void Register(IConfigurator config) =>
        config.AddCommand<ScanCommand>("scan")
            .WithDescription("Scan media files for speech deepfakes with the mixture-of-experts model. " + ExitCodes.HelpText)
            .WithExample("scan", "recordings/")
            .WithExample("scan", "call.mp3", "interview.m4a", "--json", "results.json")
            .WithExample("scan", "\"archive/**/*.wav\"", "--html", "report.html", "--csv", "results.csv", "--fail-on-fake");

    public override async Task<int> ExecuteAsync(CommandContext context, ScanSettings settings, CancellationToken cancellationToken)
    {
        var expansion = InputExpander.Expand(settings.Paths, settings.AllFiles);
        foreach (var w in expansion.Warnings) console.MarkupLineInterpolated($"[yellow]warning:[/] {w}");
        foreach (var e in expansion.Errors) console.MarkupLineInterpolated($"[red]error:[/] {e}");
        if (expansion.Errors.Count > 0) return ExitCodes.UsageError;
        if (expansion.Files.Count == 0) { console.MarkupLine("[red]error:[/] nothing to scan"); return ExitCodes.UsageError; }
        var inputSet = expansion.Files.ToHashSet(StringComparer.Ordinal);
        if (settings.Outputs().FirstOrDefault(o => inputSet.Contains(Path.GetFullPath(o.Path))) is { Option: not null } clash)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {clash.Option} {clash.Path} is one of the files to scan; refusing to overwrite it");
            return ExitCodes.UsageError;
        }

        if (ModelLocator.Find(settings.Model) is not { } modelDir)
        {
            console.MarkupLineInterpolated($"[red]error:[/] no model bundle (moe.json) found in {string.Join(" or ", ModelLocator.Candidates(settings.Model))}; pass --model DIR");
            return ExitCodes.UsageError;
        }

        var scorerOptions = new ScorerOptions
        {
            Mode = settings.Mode, TopK = settings.TopK, Gate = settings.Gate, Device = settings.Device, Threshold = settings.Threshold,
            Precision = settings.Precision,
        };
        ModelBundle bundle;
        MoeScorer scorer;
        try
        {
            bundle = ModelBundle.Load(modelDir);
            scorer = new MoeScorer(bundle, scorerOptions, new ConsoleLogger(console));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A broken bundle, a bad option for it (top-k above its expert count, enhanced gate outside dense) or an ONNX Runtime failure.
            console.MarkupLineInterpolated($"[red]model error:[/] {ex.Message}");
            return ExitCodes.UsageError;
        }

        using (scorer)
        {
            var manifest = bundle.Manifest;
            var pipeline = new ScanPipeline(scorer, new ScanPipelineOptions
            {
                BatchSize = settings.Batch,
                HopSamples = settings.Hop is { } hop ? (int)Math.Round(hop * MediaDecoder.TargetSampleRate) : null,
                Decision = settings.Threshold is { } t ? manifest.Decision with { Threshold = t } : null,
            });
            if (!manifest.Trained && settings.Quiet)
                console.MarkupLineInterpolated($"[yellow]warning:[/] model {manifest.Name} {manifest.Version} is NOT TRAINED: scored files are reported as untrained (Uncertain)");
            else if (!manifest.Trained) UntrainedBanner(pipeline.Model);

            JsonlResultWriter? jsonl = null;
            try
            {
                // Open the streamed output before scanning so a bad path fails now, not after an hour of work.
                if (settings.Jsonl is not null) jsonl = new JsonlResultWriter(settings.Jsonl);
                foreach (var (option, path) in settings.Outputs().Where(o => o.Option != "--jsonl")) ResultFiles.Create(path).Dispose();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                console.MarkupLineInterpolated($"[red]error:[/] cannot write output: {ex.Message}");
                if (jsonl is not null) await jsonl.DisposeAsync();
                return ExitCodes.UsageError;
            }

            ScanResult[] results;
            await using (jsonl)
            {
                var inputs = expansion.Files.Select(ScanInput.ForLocalFile).ToArray();
                results = await ScanAsync(pipeline, inputs, jsonl, settings.Quiet, cancellationToken);
            }

            if (settings.Json is not null) await ResultFiles.WriteJsonAsync(settings.Json, results, cancellationToken);
            if (settings.Csv is not null) await ResultFiles.WriteCsvAsync(settings.Csv, results, cancellationToken);
            if (settings.Html is not null) await File.WriteAllTextAsync(settings.Html, HtmlReport.Render(results, pipeline.Model), cancellationToken);

            if (!settings.Quiet) console.Write(SummaryTable.Build(results));
            var failed = results.Count(r => r.Verdict == Verdict.Failed);
            var fakes = results.Count(r => r.Verdict == Verdict.Fake);
            if (!settings.Quiet)
                console.WriteLine(CountLine(results));
            else
                foreach (var r in results.Where(r => r.Verdict == Verdict.Failed))
                    console.MarkupLineInterpolated($"[red]failed:[/] {r.Source.Path}: {r.Reason}");
            if (!manifest.Trained && !settings.Quiet) console.MarkupLine("[yellow]The model is not trained: no verdict above is evidence of anything.[/]");

            return ExitCodeFor(failed, fakes, settings.FailOnFake);
        }
    }

    /// <summary>e.g. "5 file(s): 4 fake, 0 real, 0 uncertain, 0 not applicable, 1 failed"; "N untrained" replaces uncertain for an untrained model's scored files.</summary>
    public static string CountLine(IReadOnlyCollection<ScanResult> results)
    {
        var untrained = results.Count(VerdictDisplay.IsUntrainedScore);
        int Count(Verdict v) => results.Count(r => r.Verdict == v);
        return $"{results.Count} file(s): {Count(Verdict.Fake)} fake, {Count(Verdict.Real)} real, " +
               (untrained > 0 ? $"{untrained} untrained, " : "") +
               $"{Count(Verdict.Uncertain) - untrained} uncertain, {Count(Verdict.NotApplicable)} not applicable, {Count(Verdict.Failed)} failed";
    }

    /// <summary>Priority: fakes with --fail-on-fake (3) over failed files (1) over success (0).</summary>
    public static int ExitCodeFor(int failed, int fakes, bool failOnFake) =>
        failOnFake && fakes > 0 ? ExitCodes.FakesFound : failed > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;

    private async Task<ScanResult[]> ScanAsync(ScanPipeline pipeline, ScanInput[] inputs, JsonlResultWriter? jsonl, bool quiet, CancellationToken ct)
    {
        var results = new ScanResult[inputs.Length];
        async Task Consume(Action<ScanProgress>? onProgress)
        {
            await foreach (var done in pipeline.RunAsync(inputs, onProgress, ct))
            {
                results[done.Index] = done.Result;
                if (jsonl is not null) await jsonl.WriteAsync(done.Result, ct);
            }
        }

        // A live bar needs a terminal; piped output gets only the summary at the end.
        if (quiet || !console.Profile.Capabilities.Interactive) { await Consume(null); return results; }

        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Describe(new ScanProgress(0, inputs.Length, 0, 0, 0, TimeSpan.Zero)), maxValue: inputs.Length);
                await Consume(p =>
                {
                    task.Value = p.FilesDone;
                    task.Description = Describe(p);
                });
                task.Value = inputs.Length;
            });
        return results;
    }

    private static string Describe(ScanProgress p) =>
        $"{p.FilesDone}/{p.FilesTotal} files{(p.FilesFailed > 0 ? $" ([red]{p.FilesFailed} failed[/])" : "")} · " +
        $"{p.AudioSecondsDone / 3600:0.000} h audio · {p.AudioHoursPerSecond * 3600:0.0}x real time ({p.AudioHoursPerSecond:0.000} h/s)";

    private void UntrainedBanner(ModelSummary model) =>
        console.Write(new Panel(new Markup(
                $"The model bundle [bold]{Markup.Escape(model.Name)} {Markup.Escape(model.Version)}[/] is [bold]NOT TRAINED[/] (moe.json: trained = false).\n" +
                "Its scores are placeholders: every scored file is reported as [bold]untrained[/] (verdict Uncertain), never Fake or Real."))
            .Header("[yellow bold] untrained model [/]")
            .BorderColor(Color.Yellow));
}
