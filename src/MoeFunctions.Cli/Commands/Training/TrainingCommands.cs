using System.ComponentModel;
using MoeFunctions.Detection;
using MoeFunctions.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MoeFunctions.Cli.Commands.Training;

/// <summary>Registers `train expert`, `train gate`, `bundle` and `eval`. Program.cs calls <see cref="Register"/>.</summary>
public static class TrainingCommands
{
    public static void Register(IConfigurator config)
    {
        config.AddBranch("train", train =>
        {
            train.SetDescription("Train an LCNN expert or a gate (TorchSharp, CPU).");
            train.AddCommand<TrainExpertCommand>("expert").WithDescription("Train one expert on a corpus domain (or 'all' to pretrain on every domain).")
                .WithExample("train", "expert", "--domain", "D1", "--corpus", "/work/corpus", "--out", "runs/D1", "--init", "runs/all/best.pt");
            train.AddCommand<TrainGateCommand>("gate").WithDescription("Train a classic or enhanced gate over frozen experts on the pooled train splits.")
                .WithExample("train", "gate", "--kind", "classic", "--corpus", "/work/corpus", "--out", "runs/gate-classic", "--experts", "runs/D1,runs/D2,runs/D3,runs/D4");
        });
        config.AddCommand<EvalCommand>("eval").WithDescription("EER and minDCF per domain and pooled (bootstrap 95 % CIs) for every expert, the uniform ensemble and the MoE modes.")
            .WithExample("eval", "--bundle", "models/default", "--manifest", "/work/corpus/manifest.csv", "--out", "eval/default");
        config.AddCommand<QuantizeCommand>("quantize").WithDescription("Calibrate a bundle's experts for INT8 on TRAIN windows and write the ranges into its moe.json (`moe scan --precision int8`).")
            .WithExample("quantize", "--bundle", "models/default", "--manifest", "/work/corpus/manifest.csv");
        config.AddCommand<BundleCommand>("bundle").WithDescription("Export trained experts and gates to a model bundle (ONNX + moe.json with calibration).");
    }
}

public class TrainRunSettings : CommandSettings
{
    [CommandOption("--corpus <DIR>"), Description("Corpus folder holding manifest.csv (path,label,domain,split,...).")]
    public string Corpus { get; init; } = "";
    [CommandOption("--out <DIR>"), Description("Run folder: checkpoints after every epoch, state.json, best.pt.")]
    public string Out { get; init; } = "";
    [CommandOption("--epochs <N>"), DefaultValue(30)] public int Epochs { get; init; } = 30;
    [CommandOption("--batch <N>"), DefaultValue(32), Description("Batch size (the reference uses 64; 32 suits two cores).")]
    public int Batch { get; init; } = 32;
    [CommandOption("--batches-per-epoch <N>"), Description("Default: about one pass over the training clips.")]
    public int? BatchesPerEpoch { get; init; }
    [CommandOption("--seed <N>"), DefaultValue(1)] public int Seed { get; init; } = 1;
    [CommandOption("--lr <X>"), DefaultValue(1e-4)] public double Lr { get; init; } = 1e-4;
    [CommandOption("--patience <N>"), DefaultValue(5), Description("Early stopping: epochs without a better dev EER.")]
    public int Patience { get; init; } = 5;
    [CommandOption("--threads <N>"), DefaultValue(2)] public int Threads { get; init; } = 2;
    [CommandOption("--max-dev-clips <N>"), Description("Score at most N dev clips per class (and domain, for gates) after each epoch.")]
    public int? MaxDevClips { get; init; }
    [CommandOption("--resume"), Description("Continue the run in --out after its last finished epoch.")]
    public bool Resume { get; init; }
    [CommandOption("--max-train-clips <N>"), Description("Train on at most N training clips per domain and class (spread evenly), e.g. so one large domain does not swamp a pooled run.")]
    public int? MaxTrainClips { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Corpus)) return ValidationResult.Error("--corpus is required");
        if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out is required");
        if (Epochs < 1 || Batch < 2 || Threads < 1) return ValidationResult.Error("--epochs >= 1, --batch >= 2 and --threads >= 1 are required");
        return ValidationResult.Success();
    }

    internal TrainingOptions Options(string? init = null) => new()
    {
        OutDir = Out, Epochs = Epochs, BatchSize = Batch, BatchesPerEpoch = BatchesPerEpoch, Seed = Seed, LearningRate = Lr,
        Patience = Patience, Threads = Threads, MaxDevClipsPerClass = MaxDevClips, Resume = Resume, InitWeights = init,
        Log = line => AnsiConsole.MarkupLine($"[grey]{DateTime.UtcNow:HH:mm:ss}[/] {Markup.Escape(line)}"),
    };
}

public sealed class TrainExpertSettings : TrainRunSettings
{
    [CommandOption("--domain <D>"), Description("Corpus domain (D1..D4), or 'all' to pretrain on the pooled domains.")]
    public string Domain { get; init; } = "";
    [CommandOption("--init <WEIGHTS>"), Description("Start from these weights: a run folder (its best.pt), a .pt, or an ONNX expert such as models/default/expert-D1.onnx (its batch norms are refitted on this run's data).")]
    public string? Init { get; init; }
    [CommandOption("--ema <DECAY>"),
     Description("Keep a moving average of the weights (decay per step, e.g. 0.99) and score dev, stop early and save best.pt on it.")]
    public double? Ema { get; init; }
    [CommandOption("--balance-generators"),
     Description("Draw spoof examples evenly per generator (the manifest's generator column) instead of per clip.")]
    public bool BalanceGenerators { get; init; }

    [CommandOption("--augment"),
     Description("RawBoost-style augmentation of every training crop: random equaliser, impulsive noise, coloured noise at 10-40 dB SNR (each with probability 0.5).")]
    public bool Augment { get; init; }

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Domain)) return ValidationResult.Error("--domain is required (D1..D4 or all)");
        if (Ema is { } d && !(d >= 0 && d < 1)) return ValidationResult.Error("--ema must be in [0, 1)");
        return base.Validate();
    }
}

public sealed class TrainExpertCommand : Command<TrainExpertSettings>
{
    public override int Execute(CommandContext context, TrainExpertSettings s, CancellationToken cancellationToken)
    {
        string? init = s.Init is null ? null : BundleBuilder.WeightsFile(s.Init);
        if (init is not null && !File.Exists(init)) return CommandErrors.Fail($"--init: {init} not found");
        return CommandErrors.Run(() =>
        {
            // Refuse weights that are not an expert before decoding the corpus, not after.
            if (init is not null) ExpertWeights.Load(init).Dispose();
            var result = TrainingPipeline.TrainExpert(s.Corpus, s.Domain, s.Options(init) with { EmaDecay = s.Ema, BalanceGenerators = s.BalanceGenerators, Augment = s.Augment },
                s.MaxTrainClips);
            AnsiConsole.MarkupLine($"best dev EER {ExpertTrainer.Pct(result.State.BestDevEer)} at epoch {result.State.BestEpoch}: {Markup.Escape(result.BestWeights)}");
        });
    }
}

public sealed class TrainGateSettings : TrainRunSettings
{
    [CommandOption("--kind <KIND>"), Description("classic (linear over the raw window) or enhanced (over the experts' embeddings).")]
    public string Kind { get; init; } = "classic";
    [CommandOption("--experts <LIST>"), Description("Comma-separated, in bundle order: expert run folders, .pt files, ONNX expert files, or a bundle folder for all its experts (e.g. models/default,runs/D5).")]
    public string Experts { get; init; } = "";
    [CommandOption("--crops-per-clip <N>"), DefaultValue(2), Description("Random 3 s crops per training clip in the cached expert outputs.")]
    public int CropsPerClip { get; init; } = 2;
    [CommandOption("--routing-loss <W>"), DefaultValue(0.0),
     Description("Weight of an extra loss that sends each window to the expert trained on its domain (from the expert runs' provenance.json); 0 = the reference's mixture loss only.")]
    public double RoutingLoss { get; init; }
    [CommandOption("--train-experts"),
     Description("Train copies of the experts together with the gate, as the paper's reference code does (the product's gates keep the experts frozen); writes the parts as run folders gate/ and expert-<domain>/ for `moe bundle`.")]
    public bool TrainExperts { get; init; }

    public override ValidationResult Validate()
    {
        if (RoutingLoss < 0) return ValidationResult.Error("--routing-loss must be >= 0");
        if (TrainExperts && RoutingLoss > 0) return ValidationResult.Error("--train-experts trains on the mixture loss only; leave out --routing-loss");
        if (Kind is not ("classic" or "enhanced")) return ValidationResult.Error("--kind must be classic or enhanced");
        if (string.IsNullOrWhiteSpace(Experts)) return ValidationResult.Error("--experts is required");
        return base.Validate();
    }
}

public sealed class TrainGateCommand : Command<TrainGateSettings>
{
    public override int Execute(CommandContext context, TrainGateSettings s, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> experts;
        try { experts = ExpertWeights.Expand(s.Experts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); }
        catch (BundleException ex) { return CommandErrors.Fail($"--experts: {ex.Message}"); }
        if (experts.FirstOrDefault(e => !File.Exists(e)) is { } missing) return CommandErrors.Fail($"--experts: {missing} not found");
        var kind = s.Kind == "classic" ? GateKind.Classic : GateKind.Enhanced;
        return CommandErrors.Run(() =>
        {
            var result = TrainingPipeline.TrainGate(s.Corpus, kind, experts, s.Options(), s.CropsPerClip, s.MaxTrainClips, s.RoutingLoss, s.TrainExperts);
            AnsiConsole.MarkupLine($"best dev EER {ExpertTrainer.Pct(result.State.BestDevEer)} at epoch {result.State.BestEpoch}: {Markup.Escape(result.BestWeights)}");
        });
    }
}

public sealed class BundleSettings : CommandSettings
{
    [CommandOption("--corpus <DIR>"), Description("Corpus whose pooled dev splits fit the calibration.")]
    public string Corpus { get; init; } = "";
    [CommandOption("--out <DIR>"), Description("Bundle folder to write (moe.json + ONNX files).")]
    public string Out { get; init; } = "";
    [CommandOption("--expert <DOMAIN=WEIGHTS>"), Description("Repeatable, in bundle order: domain=run folder, .pt, or ONNX expert file (copied unchanged, e.g. D1=models/default/expert-D1.onnx).")]
    public string[] Experts { get; init; } = [];
    [CommandOption("--classic-gate <RUN>")] public string ClassicGate { get; init; } = "";
    [CommandOption("--enhanced-gate <RUN>")] public string? EnhancedGate { get; init; }
    [CommandOption("--name <NAME>"), DefaultValue("moe-default")] public string Name { get; init; } = "moe-default";
    [CommandOption("--version <VERSION>"), DefaultValue("1.0.0")] public string Version { get; init; } = "1.0.0";
    [CommandOption("--top-k <K>"), DefaultValue(2)] public int TopK { get; init; } = 2;
    [CommandOption("--mode <MODE>"), DefaultValue("sparse"), Description("Default routing written to moe.json (sparse, dense or cascade); the calibration is fitted under it.")]
    public string Mode { get; init; } = "sparse";
    [CommandOption("--gate <KIND>"), DefaultValue("classic"), Description("Gate of the default routing: classic, or enhanced (dense only).")]
    public string Gate { get; init; } = "classic";

    public override ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Corpus) || string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--corpus and --out are required");
        if (Experts.Length == 0 || Experts.Any(e => !e.Contains('='))) return ValidationResult.Error("give each expert as --expert DOMAIN=RUN");
        if (string.IsNullOrWhiteSpace(ClassicGate)) return ValidationResult.Error("--classic-gate is required");
        if (Mode is not ("sparse" or "dense" or "cascade")) return ValidationResult.Error("--mode must be sparse, dense or cascade");
        if (Gate is not ("classic" or "enhanced")) return ValidationResult.Error("--gate must be classic or enhanced");
        if (Gate == "enhanced" && (Mode != "dense" || EnhancedGate is null)) return ValidationResult.Error("--gate enhanced needs --mode dense and --enhanced-gate");
        return ValidationResult.Success();
    }
}

public sealed class BundleCommand : Command<BundleSettings>
{
    public override int Execute(CommandContext context, BundleSettings s, CancellationToken cancellationToken)
    {
        var experts = s.Experts.Select(e => e.Split('=', 2)).Select(p => new ExpertSource(p[0].Trim(), p[1].Trim())).ToList();
        var files = experts.Select(e => BundleBuilder.WeightsFile(e.Weights)).Append(BundleBuilder.WeightsFile(s.ClassicGate));
        if (s.EnhancedGate is not null) files = files.Append(BundleBuilder.WeightsFile(s.EnhancedGate));
        if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing) return CommandErrors.Fail($"{missing} not found");
        return CommandErrors.Run(() =>
        {
            var m = BundleBuilder.Build(new BundleRequest
            {
                OutDir = s.Out, Corpus = s.Corpus, Experts = experts, ClassicGate = s.ClassicGate, EnhancedGate = s.EnhancedGate,
                Name = s.Name, Version = s.Version, TopK = s.TopK,
                Mode = Enum.Parse<RoutingMode>(s.Mode, ignoreCase: true), Gate = Enum.Parse<GateKind>(s.Gate, ignoreCase: true),
                Log = line => AnsiConsole.MarkupLine(Markup.Escape(line)),
            });
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(Path.Combine(s.Out, "moe.json"))}: {m.Experts.Count} experts, calibration a={m.Calibration.A:F3} b={m.Calibration.B:F3}");
        });
    }
}

public sealed class EvalSettings : CommandSettings
{
    [CommandOption("--bundle <DIR>")] public string Bundle { get; init; } = "";
    [CommandOption("--manifest <CSV>"), Description("Corpus manifest.csv (or its folder).")] public string Manifest { get; init; } = "";
    [CommandOption("--split <SPLIT>"), DefaultValue("test")] public string Split { get; init; } = "test";
    [CommandOption("--out <PREFIX>"), Description("Writes PREFIX.md and PREFIX.json."), DefaultValue("eval")] public string Out { get; init; } = "eval";
    [CommandOption("--bootstrap <N>"), DefaultValue(1000)] public int Bootstrap { get; init; } = 1000;
    [CommandOption("--precision <PRECISION>"), Description("fp32, or int8: every system with INT8 experts (the bundle must be calibrated by `moe quantize`)."), DefaultValue(ExpertPrecision.Fp32)]
    public ExpertPrecision Precision { get; init; } = ExpertPrecision.Fp32;

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Bundle) || string.IsNullOrWhiteSpace(Manifest) ? ValidationResult.Error("--bundle and --manifest are required")
        : Bootstrap < 10 ? ValidationResult.Error("--bootstrap must be at least 10") : ValidationResult.Success();
}

public sealed class EvalCommand : Command<EvalSettings>
{
    public override int Execute(CommandContext context, EvalSettings s, CancellationToken cancellationToken) => CommandErrors.Run(() =>
    {
        var report = MoeFunctions.Training.Evaluation.Evaluator.Evaluate(s.Bundle, s.Manifest, s.Split, s.Bootstrap, line => AnsiConsole.MarkupLine(Markup.Escape(line)), s.Precision);
        var dir = Path.GetDirectoryName(Path.GetFullPath(s.Out))!;
        Directory.CreateDirectory(dir);
        var markdown = MoeFunctions.Training.Evaluation.Evaluator.Markdown(report);
        File.WriteAllText(s.Out + ".md", markdown);
        File.WriteAllText(s.Out + ".json", MoeFunctions.Training.Evaluation.Evaluator.Json(report));
        Console.WriteLine(markdown);
    });
}

public sealed class QuantizeSettings : CommandSettings
{
    [CommandOption("--bundle <DIR>"), Description("Bundle folder; its moe.json is rewritten with experts[[]].int8 (the ONNX files are not changed).")]
    public string Bundle { get; init; } = "";
    [CommandOption("--manifest <CSV>"), Description("Corpus manifest.csv (or its folder); only its TRAIN split is read.")] public string Manifest { get; init; } = "";
    [CommandOption("--files-per-domain <N>"), Description("TRAIN files per domain (half bona fide) whose first speech window calibrates."), DefaultValue(BundleQuantizer.DefaultFilesPerDomain)]
    public int FilesPerDomain { get; init; } = BundleQuantizer.DefaultFilesPerDomain;
    [CommandOption("--version <VERSION>"), Description("New bundle version (moe.json changes, so results record a new bundle hash). Default: unchanged.")]
    public string? Version { get; init; }

    public override ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(Bundle) || string.IsNullOrWhiteSpace(Manifest) ? ValidationResult.Error("--bundle and --manifest are required")
        : FilesPerDomain < 1 ? ValidationResult.Error("--files-per-domain must be at least 1") : ValidationResult.Success();
}

public sealed class QuantizeCommand : Command<QuantizeSettings>
{
    public override int Execute(CommandContext context, QuantizeSettings s, CancellationToken cancellationToken) => CommandErrors.Run(() =>
    {
        var r = BundleQuantizer.Quantize(s.Bundle, s.Manifest, s.FilesPerDomain, version: s.Version, log: line => AnsiConsole.MarkupLine(Markup.Escape(line)));
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {Path.Combine(Path.GetFullPath(s.Bundle), ModelBundle.ManifestFile)}: INT8 ranges for {r.Manifest.Experts.Count} experts " +
                                             $"from {r.Windows} windows of {r.Files} TRAIN files; scan with --precision int8"));
    });
}

/// <summary>Bad input gets a clear message and exit code 1, never a stack trace.</summary>
internal static class CommandErrors
{
    public static int Fail(string message)
    {
        AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        return 1;
    }

    public static int Run(Action action)
    {
        try { action(); return 0; }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or UnauthorizedAccessException or BundleException or ArgumentException)
        {
            return Fail(e.Message);
        }
    }
}
