using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MoeFunctions.Benchmarks;

/// <summary>
/// The FP32 peak measured rather than derived from a nominal clock (a VM's /proc/cpuinfo can name a clock below the one the host
/// runs at, which once gave 111 % of "peak"): one thread per logical core, started together, each running <see cref="Chains"/>
/// independent 8-lane FMA chains; the best of <see cref="Passes"/> passes. <see cref="Gflops"/> divides each thread's FLOPs by its own
/// CPU time, so other processes sharing the cores do not lower it (by wall clock a load of 4 on 2 cores halved it, and the page's
/// per-CPU-second column then read 144 % of one core's peak); <see cref="WallGflops"/> is the same passes by wall clock.
/// </summary>
public sealed record FmaPeak(double Gflops, double WallGflops, int Threads, long Iterations, double BestSeconds, bool CpuTimed)
{
    /// <summary>Independent accumulators per thread: more than FMA latency (4-5 cycles) x 2 FMA units, so throughput, not latency, bounds the loop;
    /// with the two constants they fit the 16 ymm registers.</summary>
    public const int Chains = 12;
    public const int Lanes = 8;
    public const int Passes = 3;
    /// <summary>Wall seconds one pass aims at: long enough to even out scheduling, short enough that calibration and 3 passes stay near 1 s.</summary>
    public const double PassSeconds = 0.35;
    private const long CalibrationIterations = 1L << 22;

    /// <summary>AVX FMA in this process.</summary>
    public static bool IsSupported => Fma.IsSupported && Avx.IsSupported;

    /// <summary>Keeps the accumulators' sum alive so the JIT cannot drop the loop.</summary>
    public static float Sink { get; private set; }

    /// <summary>Null where <see cref="IsSupported"/> is false (the caller falls back to the nominal peak).</summary>
    public static FmaPeak? Measure(int threads)
    {
        if (!IsSupported || threads < 1) return null;
        Func<long, float, float> kernel = Kernel;
        kernel(16, 1f); // compiled before any timed pass
        var cpuTimed = double.IsFinite(ThreadCpuSeconds());

        var results = new float[threads];
        var cpu = new double[threads];
        long[] started = new long[threads], ended = new long[threads];
        var barrier = new Barrier(threads + 1);
        long iterations = CalibrationIterations;
        var stop = false;
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            while (true)
            {
                barrier.SignalAndWait(); // start together (Barrier fences, so iterations and stop are seen)
                if (stop) return;
                var start = ThreadCpuSeconds();
                started[i] = Stopwatch.GetTimestamp();
                results[i] = kernel(iterations, 1f + i);
                ended[i] = Stopwatch.GetTimestamp();
                cpu[i] = ThreadCpuSeconds() - start;
                barrier.SignalAndWait();
            }
        }) { IsBackground = true, Name = $"fma-peak-{i}" }).ToList();
        workers.ForEach(w => w.Start());

        (double Wall, double[] Cpu) Pass(long n)
        {
            iterations = n;
            barrier.SignalAndWait();
            barrier.SignalAndWait();
            // From the first thread's start to the last one's end, as the threads saw them (this thread may wake late on busy cores).
            return ((double)(ended.Max() - started.Min()) / Stopwatch.Frequency, (double[])cpu.Clone());
        }

        try
        {
            // A short pass on all threads sets the count, so a loaded or slow machine still finishes in about PassSeconds x Passes.
            var calibration = Pass(CalibrationIterations).Wall;
            var n = (long)Math.Clamp(CalibrationIterations * PassSeconds / Math.Max(calibration, 1e-6), CalibrationIterations, CalibrationIterations * 256.0);
            var flops = (double)n * Chains * Lanes * 2; // per thread and pass
            double Rate((double Wall, double[] Cpu) p) => p.Cpu.Sum(c => flops / (cpuTimed && c > 0 ? c : p.Wall));
            var passes = Enumerable.Range(0, Passes).Select(_ => Pass(n)).ToList();
            var best = passes.MaxBy(Rate);
            Sink = results.Sum();
            return new FmaPeak(Rate(best) / 1e9, threads * flops / passes.Min(p => p.Wall) / 1e9, threads, n, best.Wall, cpuTimed);
        }
        finally
        {
            stop = true;
            barrier.SignalAndWait();
            workers.ForEach(w => w.Join());
            barrier.Dispose();
        }
    }

    /// <summary>This thread's CPU time (Linux clock_gettime); NaN elsewhere, and the passes are timed by wall clock.</summary>
    private static double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        try { return ClockGetTime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds + t.Nanoseconds / 1e9 : double.NaN; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return double.NaN; }
    }

    private const int ClockThreadCpuTimeId = 3; // CLOCK_THREAD_CPUTIME_ID in Linux's time.h

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    /// <summary>
    /// Per chain k: x_k = seed + k / 1000 in every lane, then iterations times x_k = x_k * a + b with a = 0.999999, b = 0.001 (a below 1 draws
    /// every lane to the fixed point b / (1 - a): no overflow, no denormals); returns the sum of all lanes of all chains. Twelve named
    /// locals rather than an array, so the JIT keeps them in registers; the project builds optimised in every configuration
    /// (MoeFunctions.Benchmarks.csproj), since in a Debug build this loop ran at a tenth of the speed with the accumulators on the stack.
    /// </summary>
    private static float Kernel(long iterations, float seed)
    {
        Vector256<float> a = Vector256.Create(0.999999f), b = Vector256.Create(0.001f);
        Vector256<float> x0 = Vector256.Create(seed), x1 = Vector256.Create(seed + 0.001f), x2 = Vector256.Create(seed + 0.002f),
            x3 = Vector256.Create(seed + 0.003f), x4 = Vector256.Create(seed + 0.004f), x5 = Vector256.Create(seed + 0.005f),
            x6 = Vector256.Create(seed + 0.006f), x7 = Vector256.Create(seed + 0.007f), x8 = Vector256.Create(seed + 0.008f),
            x9 = Vector256.Create(seed + 0.009f), x10 = Vector256.Create(seed + 0.010f), x11 = Vector256.Create(seed + 0.011f);
        for (long i = 0; i < iterations; i++)
        {
            x0 = Fma.MultiplyAdd(x0, a, b); x1 = Fma.MultiplyAdd(x1, a, b); x2 = Fma.MultiplyAdd(x2, a, b);
            x3 = Fma.MultiplyAdd(x3, a, b); x4 = Fma.MultiplyAdd(x4, a, b); x5 = Fma.MultiplyAdd(x5, a, b);
            x6 = Fma.MultiplyAdd(x6, a, b); x7 = Fma.MultiplyAdd(x7, a, b); x8 = Fma.MultiplyAdd(x8, a, b);
            x9 = Fma.MultiplyAdd(x9, a, b); x10 = Fma.MultiplyAdd(x10, a, b); x11 = Fma.MultiplyAdd(x11, a, b);
        }
        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }
}
