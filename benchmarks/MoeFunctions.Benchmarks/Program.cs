using MoeFunctions.Benchmarks;

// moe-bench [--small] [--levers] [--gate-probe] [--gpu --speech DIR] [--corpus DIR] [--model DIR] [--work DIR] [--moe PATH] [--out FILE] [--note TEXT]
string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("moe-bench [--small] [--levers] [--gate-probe] [--gpu --speech DIR] [--corpus DIR] [--model DIR] [--work DIR] [--moe PATH] [--out FILE] [--note TEXT]\n" +
                      "  --small  seconds-long run for the test suite (no report unless --out)\n" +
                      "  --levers only the ONNX Runtime levers at batch 32 (speed and memory settings side by side); prints them\n" +
                      "  --gate-probe  a linear gate over log-mel band statistics, trained on the corpus's TRAIN split, against the\n" +
                      "           bundle's gates on DEV (routing and EER); prints the tables. --probe-clips N: TRAIN clips per domain (300);\n" +
                      "           --probe-balanced: every domain weighs the same in the probe's loss\n" +
                      "  --gpu    CPU against CUDA on this machine (a build with -p:OrtGpu=true): one expert, the scorer, `moe scan`;\n" +
                      "           --speech names a folder of WAV speech to loop; the page goes to --out or the console\n" +
                      "  full mode writes docs/benchmarks.md unless --out says otherwise");
    return 0;
}
var small = args.Contains("--small");
var leversOnly = args.Contains("--levers");
var gpu = args.Contains("--gpu");
var options = new BenchOptions
{
    Small = small,
    LeversOnly = leversOnly,
    CorpusDirectory = Value("--corpus") ?? "/work/corpus",
    ModelDirectory = Value("--model"),
    WorkDirectory = Value("--work") ?? Path.Combine(Path.GetTempPath(), small ? "moe-bench-small" : "moe-bench"),
    MoePath = Value("--moe"),
    ReportPath = Value("--out") ?? (small || leversOnly || gpu ? null : Path.Combine("docs", "benchmarks.md")),
    CommandLine = "moe-bench " + string.Join(' ', args.Select(a => a.Contains(' ') ? $"\"{a}\"" : a)),
    Note = Value("--note"),
};
try
{
    if (args.Contains("--gate-probe"))
    {
        var bundle = MoeFunctions.Detection.ModelBundle.Load(options.ModelDirectory ?? Path.Combine(AppContext.BaseDirectory, "models", "default"));
        var manifest = MoeFunctions.Training.Data.CorpusManifest.Load(options.CorpusDirectory);
        if (!int.TryParse(Value("--probe-clips") ?? "300", System.Globalization.CultureInfo.InvariantCulture, out int clips) || clips < 2)
            throw new InvalidOperationException("--probe-clips needs a whole number of at least 2");
        Console.WriteLine(GateProbe.Markdown(GateProbe.Run(bundle, manifest, clips, log: Console.Out, balanced: args.Contains("--probe-balanced"))));
        return 0;
    }
    if (gpu)
    {
        var page = GpuBench.Run(options, Value("--speech") ?? throw new InvalidOperationException("--gpu needs --speech DIR"), Console.Out);
        if (options.ReportPath is { } gpuPage) MarkdownReport.Write(gpuPage, page);
        return 0;
    }
    var report = BenchmarkRunner.Run(options, Console.Out);
    if (leversOnly)
    {
        Console.WriteLine($"load average {report.LoadBefore} -> {report.LoadAfter}; windows/s, lever vs the scanner's session settings (whole batch in one run), interleaved");
        foreach (var v in report.Levers)
            Console.WriteLine($"| {v.Lever} | {v.Setting} | {v.WindowsPerSecond:F1} | {v.BaselineWindowsPerSecond:F1} | {v.Relative:F2}x |");
        return 0;
    }
    if (options.ReportPath is { } path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        MarkdownReport.Write(path, report); // keeps the page's hand-written tail (Memory levers)
        Console.WriteLine($"wrote {path}");
    }
    else Console.WriteLine(MarkdownReport.Render(report));
    return 0;
}
catch (Exception e) when (e is IOException or InvalidOperationException or MoeFunctions.Detection.BundleException or InvalidDataException)
{
    Console.Error.WriteLine($"moe-bench: {e.Message}");
    return 1;
}
