using System.Diagnostics;

namespace MoeFunctions.Benchmarks;

/// <summary>Accumulates work units and wall time over interleaved rounds.</summary>
public sealed class Throughput
{
    public double Units { get; private set; }
    public double Seconds { get; private set; }
    public double PerSecond => Seconds > 0 ? Units / Seconds : 0;

    public void Add(double units, double seconds) { Units += units; Seconds += seconds; }

    /// <summary>Runs <paramref name="work"/> (which returns its units) and records it.</summary>
    public void Time(Func<double> work)
    {
        var sw = Stopwatch.StartNew();
        var units = work();
        Add(units, sw.Elapsed.TotalSeconds);
    }
}
