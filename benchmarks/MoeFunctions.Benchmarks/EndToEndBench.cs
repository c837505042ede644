using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MoeFunctions.Benchmarks;

/// <summary>The real `moe scan` as a child process: audio seconds per wall second and peak resident memory (/usr/bin/time -v, else VmHWM polling).</summary>
public static partial class EndToEndBench
{
    private const string TimeTool = "/usr/bin/time";

    public static void Run(BenchOptions options, BenchReport report, MediaMaker media, string modelDirectory, TextWriter log)
    {
        var moe = MoeCommand(options);
        if (moe is null)
        {
            report.EndToEndNote = $"Not measured: no `moe` entry point (looked for {options.MoePath ?? Path.Combine(AppContext.BaseDirectory, "moe.dll")}).";
            return;
        }

        // About EndToEndMinutes of speech, spread over the six formats (12 files in full mode).
        var folder = Directory.CreateDirectory(Path.Combine(media.Directory, $"mixed-{options.EndToEndMinutes:F1}min")).FullName;
        var fileCount = options.Small ? 6 : 12;
        var perFile = Math.Round(options.EndToEndMinutes * 60 / fileCount);
        string[] voices = ["en", "en-us", "en+f3", "de", "fr", "es"];
        double audio = 0;
        for (var i = 0; i < fileCount; i++)
        {
            var (_, ext, args) = MediaMaker.Formats[i % MediaMaker.Formats.Count];
            var made = media.Make($"mixed{i:D2}", perFile, ext, args, voices[i % voices.Length]);
            var inFolder = Path.Combine(folder, Path.GetFileName(made));
            if (!File.Exists(inFolder)) File.Copy(made, inFolder);
            audio += perFile;
        }

        var longSeconds = Math.Round(options.LongFileHours * 3600);
        // One long MP3 (mono 22.05 kHz, 48 kb/s keeps the file small; the decoder streams either way).
        var longFile = media.Make("long", longSeconds, ".mp3", ["-ar", "22050", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k"]);

        // `moe scan` runs INT8 experts by default on the CPU when the bundle carries the calibration (`moe quantize`); then the
        // folder is also scanned with `--precision fp32`, interleaved round by round with the default.
        var calibrated = Detection.ModelBundle.Load(modelDirectory).Manifest.Experts.All(e => e.Int8 is not null);
        // One unmeasured scan of the folder's first file first: the first `moe` process after the benchmark's heavy sections
        // ran 1.5-2x slower (20.6 s and 13.8 s for the FP32 folder on 2026-11-27, against 9.4-11.9 s in ten repeats after).
        var firstFile = Directory.GetFiles(folder).Order(StringComparer.Ordinal).First();
        var warmUpJson = Path.Combine(media.Directory, "warm-up.json");
        Measure(moe.Value.File, [.. moe.Value.Prefix, "scan", firstFile, "--quiet", "--json", warmUpJson, "--model", modelDirectory]);
        File.Delete(warmUpJson);
        string[][] precisionArgs = calibrated ? [[], ["--precision", "fp32"]] : [[]];
        var folderRuns = precisionArgs.Select(_ => new List<Scan>()).ToList();
        for (var round = 0; round < options.EndToEndRounds; round++)
            // Alternate which goes first, so neither always runs right after the other.
            foreach (var o in round % 2 == 0 ? Enumerable.Range(0, precisionArgs.Length) : Enumerable.Range(0, precisionArgs.Length).Reverse())
            {
                var scan = ScanOnce(moe.Value, folder, fileCount, modelDirectory, media.Directory, precisionArgs[o], report, log);
                if (scan is null) return;
                folderRuns[o].Add(scan);
            }
        for (var o = 0; o < precisionArgs.Length; o++) report.EndToEnd.Add(Row($"{fileCount} files, {audio / 60:0.#} min, six formats", audio, fileCount, folderRuns[o], precisionArgs[o]));
        var longScan = ScanOnce(moe.Value, longFile, 1, modelDirectory, media.Directory, [], report, log);
        if (longScan is null) return;
        report.EndToEnd.Add(Row($"one {longSeconds / 3600:0.##} h MP3", longSeconds, 1, [longScan], []));
        foreach (var row in report.EndToEnd)
            log.WriteLine($"end to end {row.Input} ({row.Option}, {row.Precision}): median {row.RealTime:F1}x real time over {row.Rounds} run(s), peak {row.PeakMegabytes:F0} MB");
        report.EndToEndNote = "Sparse top-2 routing with the bundle's other defaults; wall time includes process start-up and model loading; peak memory is the child's maximum resident set size (the largest over the runs). " +
                              "An unmeasured scan of one file runs first (the first process after the other sections ran 1.5-2x slower). " +
                              (calibrated ? $"`moe scan`'s default precision (auto) runs the experts' convolutions in INT8 on the CPU, quantized at load from the bundle's calibration (accuracy change in docs/model-card.md); the folder is scanned {options.EndToEndRounds} times that way and {options.EndToEndRounds} times with `--precision fp32`, alternating, and each row gives the median run (x real time) and the range of wall times."
                                    : $"The bundle has no INT8 calibration (`moe quantize`), so the default precision is FP32; the folder is scanned {options.EndToEndRounds} times and the row gives the median run.");
    }

    private sealed record Scan(double Wall, double PeakMegabytes, string Precision, string Command);

    /// <summary>One measured `moe scan` of <paramref name="input"/> in sparse top-2; null (and a note) when it failed.</summary>
    private static Scan? ScanOnce((string File, string[] Prefix, string Display) moe, string input, int files, string modelDirectory, string workDirectory,
        string[] extra, BenchReport report, TextWriter log)
    {
        var json = Path.Combine(workDirectory, $"scan-{Guid.NewGuid():N}.json");
        string[] args = ["scan", input, "--mode", "sparse", "--top-k", "2", "--quiet", "--json", json, "--model", modelDirectory, .. extra];
        var (exit, wall, peakKb, output) = Measure(moe.File, [.. moe.Prefix, .. args]);
        var command = $"{TimeTool} -v {moe.Display} {string.Join(' ', args.Select(a => a == json ? "OUT.json" : a))}";
        if (exit != 0 || !File.Exists(json))
        {
            report.EndToEndNote += $"`moe scan` did not run here (exit {exit}): {Tail(output)}. ";
            log.WriteLine(report.EndToEndNote);
            return null;
        }
        // The precision the scan reports it ran with, not the one asked for: the default resolves on the machine.
        string precision;
        int scanned;
        using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(json)))
        {
            var results = doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Array ? doc.RootElement.EnumerateArray().ToList() : [doc.RootElement];
            scanned = results.Count;
            var precisions = results.Select(r => r.TryGetProperty("model", out var m) && m.TryGetProperty("precision", out var p) ? p.GetString() : null)
                .OfType<string>().Distinct().ToList();
            precision = precisions.Count == 1 ? precisions[0] : string.Join("/", precisions.DefaultIfEmpty("?"));
        }
        File.Delete(json);
        if (scanned != files)
        {
            report.EndToEndNote += $"`moe scan` returned {scanned} results for {files} files. ";
            return null;
        }
        log.WriteLine($"  scan of {Path.GetFileName(input)} {string.Join(' ', extra)}: {wall:F2} s ({precision})");
        return new Scan(wall, peakKb / 1024.0, precision, command);
    }

    private static EndToEndRow Row(string input, double audio, int files, List<Scan> scans, string[] extra)
    {
        var walls = scans.Select(s => s.Wall).Order().ToList();
        return new EndToEndRow(input, audio, walls[walls.Count / 2], scans.Max(s => s.PeakMegabytes), files, scans[0].Command, scans[0].Precision)
        {
            Option = extra.Length == 0 ? "default" : string.Join(' ', extra),
            Rounds = scans.Count,
            WallMin = walls[0],
            WallMax = walls[^1],
        };
    }

    /// <summary>How to start `moe`: an executable, or `dotnet moe.dll`.</summary>
    internal static (string File, string[] Prefix, string Display)? MoeCommand(BenchOptions options)
    {
        var path = options.MoePath ?? Path.Combine(AppContext.BaseDirectory, "moe.dll");
        if (!File.Exists(path)) return null;
        if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) return (path, [], path);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        return (dotnet, [path], $"dotnet {path}");
    }

    /// <summary>Runs the command and returns its exit code, wall seconds, peak RSS in KiB and its output.</summary>
    internal static (int Exit, double Wall, long PeakKb, string Output) Measure(string file, string[] args)
    {
        var useTime = File.Exists(TimeTool);
        var psi = new ProcessStartInfo(useTime ? TimeTool : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (useTime) { psi.ArgumentList.Add("-v"); psi.ArgumentList.Add(file); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{psi.FileName} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long polled = 0;
        while (!p.WaitForExit(50)) polled = Math.Max(polled, VmHwmKb(useTime ? ChildOf(p.Id) : p.Id));
        var wall = sw.Elapsed.TotalSeconds;
        var output = stdout.Result + stderr.Result;
        var m = MaxRss().Match(stderr.Result);
        var peak = useTime && m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : polled;
        return (p.ExitCode, wall, peak, output);
    }

    private static int ChildOf(int pid)
    {
        try { return int.Parse(File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException) { return pid; }
    }

    private static long VmHwmKb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return 0; }
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('\t')).ToArray();
        return string.Join(" / ", lines.TakeLast(3)).Trim();
    }

    [GeneratedRegex(@"Maximum resident set size \(kbytes\):\s*(\d+)")]
    private static partial Regex MaxRss();
}
