using System.Diagnostics;
using MoeFunctions.Audio;

namespace MoeFunctions.Benchmarks;

/// <summary>MediaDecoder (to 16 kHz mono) versus an ffmpeg process producing the same stream, on the same file, interleaved.
/// One untimed managed decode comes first: a scan decodes many files in one process, so its speed is the compiled code's; the
/// first decode (reported apart) pays the JIT, as a one-file scan does.</summary>
public static class DecodeBench
{
    public static void Run(BenchOptions options, BenchReport report, MediaMaker media, TextWriter log)
    {
        foreach (var (format, extension, args) in MediaMaker.Formats)
        {
            var file = media.Make("decode", options.DecodeSeconds, extension, args);
            var first = new Throughput();
            var managed = new Throughput();
            var ffmpeg = new Throughput();
            var decoder = "";
            first.Time(() => Managed(file, out decoder));
            for (var round = 0; round < options.DecodeRounds; round++)
            {
                managed.Time(() => Managed(file, out decoder));
                ffmpeg.Time(() => Ffmpeg(file));
            }
            var row = new DecodeRow(format, decoder, managed.Units / options.DecodeRounds, managed.PerSecond, ffmpeg.PerSecond,
                managed.CpuSeconds / managed.Seconds, first.PerSecond);
            report.Decoding.Add(row);
            log.WriteLine($"decode {format}: managed {row.ManagedRealTime:F0}x ({row.ManagedCores:F1} cores; first decode {row.ManagedFirstRealTime:F0}x), ffmpeg {row.FfmpegRealTime:F0}x real time");
        }
    }

    /// <summary>Decodes the whole file; returns seconds of 16 kHz audio.</summary>
    public static double Managed(string path, out string decoder)
    {
        using var source = MediaDecoder.OpenFile(path);
        decoder = source.Facts.Decoder;
        var buffer = new float[16384];
        long samples = 0;
        int n;
        while ((n = source.Read(buffer)) > 0) samples += n;
        return samples / (double)MediaDecoder.TargetSampleRate;
    }

    public static string FfmpegCommand(string path) => $"ffmpeg -nostdin -v error -i {path} -f s16le -ac 1 -ar 16000 -";

    /// <summary>Runs the ffmpeg process and drains its output; returns seconds of audio it produced.</summary>
    public static double Ffmpeg(string path)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("ffmpeg did not start");
        var errTask = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.BaseStream;
        var buffer = new byte[1 << 16];
        long bytes = 0;
        int n;
        while ((n = stdout.Read(buffer)) > 0) bytes += n;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ffmpeg failed on {path}: {errTask.Result}");
        return bytes / 2.0 / MediaDecoder.TargetSampleRate;
    }
}
