namespace MoeFunctions.Benchmarks.Tests;

public sealed class LcnnCostTests
{
    [Fact]
    public void Macs_match_the_layer_shapes_counted_by_hand()
    {
        // out x H x W x in x k x k per conv on 80x301, 40x150, 20x75, 10x37 maps (see DESIGN.md section 1).
        long conv = 64L * 80 * 301 * 1 * 25 + 64L * 40 * 150 * 32 + 96L * 40 * 150 * 32 * 9 + 96L * 20 * 75 * 48
                    + 128L * 20 * 75 * 48 * 9 + 128L * 10 * 37 * 64 + 64L * 10 * 37 * 64 * 9 + 64L * 10 * 37 * 32 + 64L * 10 * 37 * 32 * 9;
        Assert.Equal((conv, 4096L * 128 + 64 * 2), LcnnCost.MacsPerWindow());
        Assert.Equal(330_808_320, conv);
        Assert.InRange(LcnnCost.GflopPerWindow, 0.66, 0.67);
    }
}

public sealed class EerTests
{
    [Fact]
    public void Separated_scores_give_zero_and_reversed_scores_give_one()
    {
        Assert.Equal(0, Eer.Compute([(false, 0.1), (false, 0.2), (true, 0.8), (true, 0.9)]));
        Assert.Equal(1, Eer.Compute([(true, 0.1), (true, 0.2), (false, 0.8), (false, 0.9)]));
    }

    [Fact]
    public void One_swapped_pair_in_four_of_each_class_gives_a_quarter()
    {
        (bool, double)[] scores = [(false, 0.1), (false, 0.2), (false, 0.3), (true, 0.35), (false, 0.6), (true, 0.5), (true, 0.7), (true, 0.8)];
        Assert.Equal(0.25, Eer.Compute(scores), 6);
    }

    [Fact]
    public void One_class_only_has_no_eer() => Assert.True(double.IsNaN(Eer.Compute([(true, 0.5)])));
}

/// <summary>Alone, after the parallel tests: the FMA loop's threads should share the cores with nothing else of this suite, and the small run keeps its cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MachineCollection { public const string Name = "machine peak"; }

[Collection(MachineCollection.Name)]
public sealed class MachineTests
{
    private static readonly Lazy<Machine> Detected = new(Machine.Detect); // one measurement (about 1 s) for both tests

    [Fact]
    public void Nominal_peak_is_cores_times_clock_times_flops_per_cycle()
    {
        var m = Detected.Value;
        Assert.Equal(Environment.ProcessorCount, m.Cores);
        Assert.True(m.ClockGHz > 0, m.ClockSource);
        Assert.Contains(m.FlopsPerCycle, new[] { 16, 32 });
        Assert.Equal(m.Cores * m.ClockGHz * m.FlopsPerCycle, m.NominalPeakGflops, 9);
        Assert.Matches(@"^\d+(\.\d+)?, \d+(\.\d+)?, \d+(\.\d+)?$", Machine.LoadAverage());
    }

    [Fact]
    public void Measured_peak_is_what_the_percent_columns_use_and_is_near_the_nominal()
    {
        var m = Detected.Value;
        if (!FmaPeak.IsSupported)
        {
            Assert.Null(m.Measured);
            Assert.Equal(m.NominalPeakGflops, m.PeakGflops);
            return;
        }
        var p = Assert.IsType<FmaPeak>(m.Measured);
        Assert.Equal(m.Cores, p.Threads);
        Assert.True(double.IsFinite(p.Gflops) && p.Gflops > 0, $"{p}");
        Assert.Equal(p.Gflops, m.PeakGflops);
        Assert.Equal(p.Gflops, m.EffectiveClockGHz * m.Cores * m.FlopsPerCycle, 6);
        Assert.True(p.BestSeconds > 0 && p.Iterations > 0, $"{p}");
        Assert.True(p.CpuTimed || !OperatingSystem.IsLinux(), "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        Assert.True(p.Gflops >= 0.99 * p.WallGflops, $"{p}"); // a thread's CPU time never exceeds the pass's wall time
        // A wrong FLOP count (lanes, chains, threads), a loop the JIT dropped or one it left unoptimised (MinOpts: 0.12x here) lands
        // outside; a clock a VM understates moves it by less. Not a speed target.
        if (m.NominalPeakGflops > 0) Assert.InRange(p.Gflops / m.NominalPeakGflops, 0.2, 3.0);
        // 2 FMA units x 8 lanes x 2 FLOPs is the most a core does with 256-bit FMA, and no x86 core clocks above 6.5 GHz.
        if (m.FlopsPerCycle == 32) Assert.InRange(m.EffectiveClockGHz, 0.1, 6.5);
    }
}

public sealed class HandWrittenTailTests
{
    [Fact]
    public void Regeneration_keeps_the_tail_from_the_marker_on_and_replaces_the_rest()
    {
        var previous = "# Benchmarks\nold table\n\n" + MarkdownReport.KeptMarker + "\n## Memory levers\nmeasured by hand\n";
        var page = MarkdownReport.KeepHandWritten("# Benchmarks\nnew table\n", previous);
        Assert.Equal("# Benchmarks\nnew table\n\n" + MarkdownReport.KeptMarker + "\n## Memory levers\nmeasured by hand\n", page);
    }

    [Fact]
    public void A_page_without_the_marker_or_no_page_is_simply_replaced()
    {
        Assert.Equal("new", MarkdownReport.KeepHandWritten("new", "old page without a marker"));
        Assert.Equal("new", MarkdownReport.KeepHandWritten("new", null));
    }
}

public sealed class RoutingDevFilesTests
{
    [Fact]
    public void A_capped_dev_list_takes_every_domain_and_both_labels()
    {
        // The corpus manifest is sorted by domain; a plain cap used to fill up with D1 alone.
        var dir = Directory.CreateTempSubdirectory("moe-bench-dev-").FullName;
        try
        {
            var rows = new List<string> { "path,label,domain,split" };
            foreach (var d in new[] { "D1", "D2", "D3" })
                for (var i = 0; i < 5; i++)
                {
                    rows.Add($"{d}/r{i}.wav,bonafide,{d},dev");
                    rows.Add($"{d}/f{i}.wav,spoof,{d},dev");
                    rows.Add($"{d}/t{i}.wav,spoof,{d},train");
                }
            var manifest = Path.Combine(dir, "manifest.csv");
            File.WriteAllLines(manifest, rows);

            var files = RoutingBench.DevFiles(dir, manifest, 12);
            Assert.Equal(12, files.Count);
            Assert.All(new[] { "D1", "D2", "D3" }, d =>
            {
                Assert.Equal(2, files.Count(f => f.Domain == d && f.Spoof));
                Assert.Equal(2, files.Count(f => f.Domain == d && !f.Spoof));
            });
            Assert.DoesNotContain(files, f => Path.GetFileName(f.Path).StartsWith('t')); // train rows never
        }
        finally { Directory.Delete(dir, true); }
    }
}

public sealed class GpuBenchTests
{
    [Fact]
    public void Without_cuda_the_gpu_mode_says_why_and_measures_nothing()
    {
        // The test build carries the CPU runtime: the CUDA provider cannot be appended, and no number may be reported.
        var work = Directory.CreateTempSubdirectory("moe-bench-gpu-").FullName;
        try
        {
            var page = GpuBench.Run(new BenchOptions { Small = true, WorkDirectory = work, CommandLine = "moe-bench --gpu (test)" }, work, TextWriter.Null);
            Assert.Contains("CUDA is not available here, nothing measured", page);
            Assert.DoesNotContain("| batch |", page);
            Assert.DoesNotContain("x real time", page);
        }
        finally { Directory.Delete(work, true); }
    }
}
