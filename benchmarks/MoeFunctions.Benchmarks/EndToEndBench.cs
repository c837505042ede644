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

        // The folder again with INT8 experts, right after the FP32 run, when the bundle carries the calibration (`moe quantize`).
        var int8 = Detection.ModelBundle.Load(modelDirectory).Manifest.Experts.All(e => e.Int8 is not null);
        // One unmeasured scan of the folder's first file first: the first `moe` process after the benchmark's heavy sections
        // ran 1.5-2x slower (20.6 s and 13.8 s for the FP32 folder on 2026-11-27, against 9.4-11.9 s in ten repeats after).
        var firstFile = Directory.GetFiles(folder).Order(StringComparer.Ordinal).First();
        var warmUpJson = Path.Combine(media.Directory, "warm-up.json");
        Measure(moe.Value.File, [.. moe.Value.Prefix, "scan", firstFile, "--quiet", "--json", warmUpJson, "--model", modelDirectory]);
        File.Delete(warmUpJson);
        var runs = new List<(string Input, double Seconds, int Files, string Precision)> { (folder, audio, fileCount, "fp32") };
        if (int8) runs.Add((folder, audio, fileCount, "int8"));
        runs.Add((longFile, longSeconds, 1, "fp32"));
        foreach (var (input, seconds, files, precision) in runs)
        {
            var json = Path.Combine(media.Directory, $"scan-{Guid.NewGuid():N}.json");
            string[] args = ["scan", input, "--mode", "sparse", "--top-k", "2", "--quiet", "--json", json, "--model", modelDirectory,
                .. precision == "int8" ? new[] { "--precision", "int8" } : []];
            var (exit, wall, peakKb, output) = Measure(moe.Value.File, [.. moe.Value.Prefix, .. args]);
            var command = $"{TimeTool} -v {moe.Value.Display} {string.Join(' ', args.Select(a => a == json ? "OUT.json" : a))}";
            if (exit != 0 || !File.Exists(json))
            {
                report.EndToEndNote += $"`moe scan` did not run here (exit {exit}): {Tail(output)}. ";
                log.WriteLine(report.EndToEndNote);
                return;
            }
            int scanned;
            using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(json)))
                scanned = doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Array ? doc.RootElement.GetArrayLength() : 1;
            File.Delete(json);
            if (scanned != files)
            {
                report.EndToEndNote += $"`moe scan` returned {scanned} results for {files} files. ";
                return;
            }
            var row = new EndToEndRow(files == 1 ? $"one {seconds / 3600:0.##} h MP3" : $"{files} files, {seconds / 60:0.#} min, six formats",
                seconds, wall, peakKb / 1024.0, files, command, precision);
            report.EndToEnd.Add(row);
            log.WriteLine($"end to end {row.Input} ({precision}): {row.RealTime:F1}x real time, peak {row.PeakMegabytes:F0} MB ({scanned} result records)");
        }
        report.EndToEndNote = "Sparse top-2 routing with the bundle's other defaults; wall time includes process start-up and model loading; peak memory is the child's maximum resident set size. " +
                              "An unmeasured scan of one file runs first (the first process after the other sections ran 1.5-2x slower). " +
                              (int8 ? "The INT8 row is the same folder with `--precision int8` (INT8 expert convolutions quantized at load from the bundle's calibration; accuracy change in docs/model-card.md), run right after the FP32 row."
                                    : "No INT8 row: the bundle has no INT8 calibration (`moe quantize`).");
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
