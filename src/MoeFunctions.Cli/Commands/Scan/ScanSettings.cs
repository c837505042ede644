using System.ComponentModel;
using MoeFunctions.Detection;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MoeFunctions.Cli.Commands.Scan;

public sealed class ScanSettings : CommandSettings
{
    [CommandArgument(0, "<PATH>")]
    [Description("Files, folders (scanned recursively for media files) and globs (quote them: \"media/**/*.mp3\"; * and ** are supported)")]
    public string[] Paths { get; init; } = [];

    [CommandOption("-m|--model <DIR>")]
    [Description("Model bundle folder. Default: models/default next to the moe executable, then ./models/default")]
    public string? Model { get; init; }

    [CommandOption("--mode <MODE>")]
    [Description("Routing: sparse (gate, then the top-k experts), dense (all experts) or cascade (top-1, more near the threshold). Default: the bundle's")]
    public RoutingMode? Mode { get; init; }

    [CommandOption("-k|--top-k <K>")]
    [Description("Experts per window in sparse mode. Default: the bundle's")]
    public int? TopK { get; init; }

    [CommandOption("--gate <KIND>")]
    [Description("classic (gate over the waveform) or enhanced (gate over the experts' embeddings; dense only). Default: the bundle's")]
    public GateKind? Gate { get; init; }

    [CommandOption("-t|--threshold <P>")]
    [Description("Decision threshold on the calibrated P(spoof), in (0, 1). Default: the bundle's")]
    public double? Threshold { get; init; }

    [CommandOption("--device <DEVICE>")]
    [Description("cpu or cuda (falls back to cpu with a warning when CUDA is unavailable)")]
    [DefaultValue(ExecutionDevice.Cpu)]
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    [CommandOption("--precision <PRECISION>")]
    [Description("auto (default): int8 on the CPU when the bundle is calibrated by `moe quantize` (the bundled model is), else fp32. fp32: the trained weights as shipped. int8: INT8 expert convolutions, CPU only, about 1.3x faster end to end with no measured accuracy loss (docs/model-card.md)")]
    [DefaultValue(ExpertPrecision.Auto)]
    public ExpertPrecision Precision { get; init; } = ExpertPrecision.Auto;

    [CommandOption("--hop <SECONDS>")]
    [Description("Distance between window starts in seconds (0.1 to the window length, 3 s). Default: the bundle's")]
    public double? Hop { get; init; }

    [CommandOption("--json <FILE>")]
    [Description("Write all results as one JSON array (docs/result-schema.md)")]
    public string? Json { get; init; }

    [CommandOption("--jsonl <FILE>")]
    [Description("Write one result per line as each file finishes")]
    public string? Jsonl { get; init; }

    [CommandOption("--csv <FILE>")]
    [Description("Write one CSV row per file")]
    public string? Csv { get; init; }

    [CommandOption("--html <FILE>")]
    [Description("Write an HTML report with a timeline plot per file")]
    public string? Html { get; init; }

    [CommandOption("--fail-on-fake")]
    [Description("Exit with 3 when any file's verdict is Fake")]
    public bool FailOnFake { get; init; }

    [CommandOption("--all-files")]
    [Description("In folders, scan every file, not only files with a media extension")]
    public bool AllFiles { get; init; }

    [CommandOption("--batch <N>")]
    [Description("Windows per inference call, filled across files")]
    [DefaultValue(32)]
    public int Batch { get; init; } = 32;

    [CommandOption("-q|--quiet")]
    [Description("No progress bar and no summary table; warnings and errors only")]
    public bool Quiet { get; init; }

    public override ValidationResult Validate()
    {
        if (Paths.Length == 0) return ValidationResult.Error("give at least one file, folder or glob to scan");
        if (Threshold is { } t && !(t > 0 && t < 1)) return ValidationResult.Error("--threshold must lie strictly between 0 and 1");
        if (TopK is < 1) return ValidationResult.Error("--top-k must be at least 1");
        if (Hop is { } h && !(h >= 0.1 && h <= 3.0)) return ValidationResult.Error("--hop must lie between 0.1 and 3 seconds");
        if (Batch is < 1 or > 1024) return ValidationResult.Error("--batch must lie between 1 and 1024");
        var outputs = Outputs().Select(o => Path.GetFullPath(o.Path)).ToList();
        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Count)
            return ValidationResult.Error("--json, --jsonl, --csv and --html must name different files");
        if (outputs.FirstOrDefault(Directory.Exists) is { } dir) return ValidationResult.Error($"output path is a folder: {dir}");
        return ValidationResult.Success();
    }

    public IEnumerable<(string Option, string Path)> Outputs()
    {
        if (Json is not null) yield return ("--json", Json);
        if (Jsonl is not null) yield return ("--jsonl", Jsonl);
        if (Csv is not null) yield return ("--csv", Csv);
        if (Html is not null) yield return ("--html", Html);
    }
}
