using System.Diagnostics;
using MoeFunctions.Detection;

namespace MoeFunctions.Benchmarks;

/// <summary>Runs every measurement of issue 7 in one process, so all ratios are side by side under the same load.</summary>
public static class BenchmarkRunner
{
    public static BenchReport Run(BenchOptions options, TextWriter log)
    {
        var sw = Stopwatch.StartNew();
        var report = new BenchReport { Machine = Machine.Detect(), Options = options };
        log.WriteLine($"machine: {report.Machine.Model}, {report.Machine.Cores} cores, {report.Machine.ClockGHz:F3} GHz; load average {report.LoadBefore}");
        var modelDirectory = options.ModelDirectory ?? Path.Combine(AppContext.BaseDirectory, "models", "default");
        var bundle = ModelBundle.Load(modelDirectory);
        var media = new MediaMaker(options.WorkDirectory);

        Section("expert inference", () => ExpertBench.Run(options, report, log));
        if (options.LeversOnly)
        {
            report.LoadAfter = Machine.LoadAverage();
            report.TotalSeconds = sw.Elapsed.TotalSeconds;
            return report;
        }
        Section("routing", () => RoutingBench.Run(options, report, bundle, log));
        Section("decoding", () => DecodeBench.Run(options, report, media, log));
        Section("end to end", () => EndToEndBench.Run(options, report, media, bundle.Directory, log));

        report.LoadAfter = Machine.LoadAverage();
        report.TotalSeconds = sw.Elapsed.TotalSeconds;
        return report;

        void Section(string name, Action run)
        {
            var t = Stopwatch.StartNew();
            run();
            // A partial page after each section: a long run that is stopped still leaves its numbers.
            if (options.ReportPath is { } path) MarkdownReport.Write(path, report);
            log.WriteLine($"-- {name}: {t.Elapsed.TotalSeconds:F0} s (load average {Machine.LoadAverage()})");
        }
    }
}
