using System.Diagnostics;

namespace MoeFunctions.Benchmarks;

/// <summary>Accumulates work units and wall time over interleaved rounds.</summary>
public sealed class Throughput
{
    public double Units { get; private set; }
    public double Seconds { get; private set; }
    /// <summary>This process's CPU time (all threads) during the timed work: less distorted by other processes than wall time.</summary>
    public double CpuSeconds { get; private set; }
    public double PerSecond => Seconds > 0 ? Units / Seconds : 0;
    public double PerCpuSecond => CpuSeconds > 0 ? Units / CpuSeconds : 0;

    public void Add(double units, double seconds, double cpuSeconds = 0) { Units += units; Seconds += seconds; CpuSeconds += cpuSeconds; }

    /// <summary>Runs <paramref name="work"/> (which returns its units) and records it.</summary>
    public void Time(Func<double> work)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var units = work();
        var wall = sw.Elapsed.TotalSeconds;
        Add(units, wall, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
    }
}
