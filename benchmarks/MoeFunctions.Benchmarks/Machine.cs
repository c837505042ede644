using System.Diagnostics;
using System.Globalization;

namespace MoeFunctions.Benchmarks;

/// <summary>The CPU the numbers come from, and its FP32 peak: nominal (cores x clock x FLOPs per cycle) and measured (<see cref="FmaPeak"/>).</summary>
public sealed record Machine(string Model, int Cores, double ClockGHz, string ClockSource, int FlopsPerCycle, string FlopsReason, FmaPeak? Measured = null)
{
    public double NominalPeakGflops => Cores * ClockGHz * FlopsPerCycle;
    /// <summary>The peak the "% of peak" columns use: measured where it could be (a VM's nominal clock can be below the host's), else nominal.</summary>
    public double PeakGflops => Measured?.Gflops ?? NominalPeakGflops;
    /// <summary>The clock the measured peak implies: measured / (cores x FLOPs per cycle); 0 when not measured.</summary>
    public double EffectiveClockGHz => Measured is { } p && Cores * FlopsPerCycle > 0 ? p.Gflops / (Cores * FlopsPerCycle) : 0;

    public static Machine Detect()
    {
        var lscpu = Run("lscpu", "");
        string Field(string name) => lscpu.Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim() == name)
            .Select(p => p[1].Trim()).FirstOrDefault() ?? "";
        var model = Field("Model name");
        var cores = Environment.ProcessorCount;
        var (clock, source) = Clock(Field("CPU max MHz"));
        var flags = Field("Flags");
        var fma = flags.Contains("avx2") && flags.Contains("fma");
        var measured = FmaPeak.Measure(cores);
        // AVX2 + FMA: 2 FMA units x 8 floats x 2 FLOPs = 32 per cycle (Zen 2/3, Haswell and later client cores).
        return fma
            ? new Machine(model, cores, clock, source, 32, "AVX2 FMA: 2 FMA units x 8 FP32 lanes x 2 FLOPs", measured)
            : new Machine(model, cores, clock, source, 16, "no AVX2 FMA: 2 units x 4 lanes x 2 FLOPs (SSE)", measured);
    }

    /// <summary>lscpu's max MHz where the hypervisor reports it, else the "cpu MHz" of /proc/cpuinfo.</summary>
    private static (double GHz, string Source) Clock(string lscpuMax)
    {
        if (double.TryParse(lscpuMax, CultureInfo.InvariantCulture, out var max) && max > 0) return (max / 1000, "lscpu 'CPU max MHz'");
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("cpu MHz", StringComparison.Ordinal));
            if (line is not null && double.TryParse(line.Split(':')[1].Trim(), CultureInfo.InvariantCulture, out var mhz))
                return (mhz / 1000, "/proc/cpuinfo 'cpu MHz'");
        }
        catch (IOException) { }
        return (0, "unknown");
    }

    /// <summary>The 1, 5 and 15 minute load averages (other processes distort timings; ratios within one run stay comparable).</summary>
    public static string LoadAverage()
    {
        try { return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }

    internal static string Run(string file, string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return text;
        }
        catch (System.ComponentModel.Win32Exception) { return ""; }
    }
}
