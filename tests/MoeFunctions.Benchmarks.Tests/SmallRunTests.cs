namespace MoeFunctions.Benchmarks.Tests;

/// <summary>The small mode runs every measurement and each yields positive numbers. Never a speed assertion: the machine is shared.</summary>
public sealed class SmallRunTests(SmallRunFixture run) : IClassFixture<SmallRunFixture>
{
    private BenchReport R => run.Report;

    [Fact]
    public void Expert_inference_ran_at_every_small_batch_size_in_both_runtimes_or_says_why_not()
    {
        Assert.Equal(R.Options.ExpertBatches, R.Expert.Select(e => e.Batch));
        Assert.All(R.Expert, e =>
        {
            Assert.True(e.OrtWindowsPerSecond > 0);
            Assert.True(e.OrtGflops > 0);
            Assert.InRange(e.PeakFraction, double.Epsilon, 10);
            Assert.True(e.TorchWindowsPerSecond > 0, R.TorchNote); // the eager column runs in every build
        });
        Assert.Contains("TorchSharp eager", R.TorchNote);
    }

    [Fact]
    public void Each_lever_kind_was_tried_against_the_scanner_settings()
    {
        Assert.Equal(["graph optimisation", "intra-op threads", "inter-op", "expert batch (memory)", "CPU arena (memory)", "memory pattern (memory)",
            "MFM form (graph)", "weights: INT8 (QDQ -> QLinearConv)"], R.Levers.Select(l => l.Lever));
        Assert.All(R.Levers, l => Assert.True(l.WindowsPerSecond > 0 && l.BaselineWindowsPerSecond > 0 && l.Relative > 0));
    }

    [Fact]
    public void Int8_accuracy_compared_fp32_and_int8_experts_on_the_dev_files()
    {
        var a = Assert.Single(R.Int8); // the small mode measures the recommended format only
        Assert.Equal(Int8Bench.Describe(MoeFunctions.Detection.Int8Weights.U8S8ReducedRange), a.Format);
        Assert.Equal(4, a.Experts.Count);
        var d1 = a.Experts.Single(x => x.Domain == "D1"); // the small corpus has D1 dev files only
        Assert.Equal(2, d1.Files);
        Assert.InRange(d1.Fp32Eer, 0, 1);
        Assert.InRange(d1.Int8Eer, 0, 1);
        Assert.All(a.Experts, x => Assert.True(x.MaxBonafideDifference > 0, $"{x.Expert}: INT8 gave FP32's exact probabilities"));
        Assert.True(a.MaxFusedBonafideDifference > 0);
        Assert.Equal(2, a.PooledFiles);
        Assert.InRange(a.PooledInt8Eer, 0, 1);
        Assert.Contains("TRAIN files", R.Int8Note);
        Assert.Contains("### INT8 weights", run.Markdown);
        Assert.Contains($"| {a.Format} | dense MoE, enhanced gate, pooled | 2 |", run.Markdown);
    }

    [Fact]
    public void Routing_ran_all_modes_with_their_expert_counts_and_an_eer()
    {
        // The shipped bundle has an enhanced gate, so its dense mode is measured too; then the first four again with ORT's spinning threads.
        string[] modes = ["dense (4 experts, classic gate)", "sparse top-2", "sparse top-1", "cascade"];
        Assert.Equal([.. modes, "dense (4 experts, enhanced gate)", .. modes.Select(m => $"{m}, {RoutingBench.SpinningSuffix}")], R.Routing.Select(x => x.Mode));
        Assert.Equal([4.0, 2.0, 1.0], R.Routing.Take(3).Select(x => x.ExpertsPerWindow));
        Assert.Equal(4.0, R.Routing[4].ExpertsPerWindow);
        Assert.InRange(R.Routing[3].ExpertsPerWindow, 1, 4);
        // Spinning changes speed only: the same experts run and the same EER.
        Assert.Equal(R.Routing.Take(4).Select(x => (x.ExpertsPerWindow, x.PooledEer)), R.Routing.Skip(5).Select(x => (x.ExpertsPerWindow, x.PooledEer)));
        Assert.All(R.Routing, x =>
        {
            Assert.True(x.WindowsPerSecond > 0);
            Assert.True(x.CostRelativeToDense > 0);
            Assert.InRange(x.PooledEer, 0, 1);
            Assert.Equal(2, x.Files);
        });
        Assert.Equal(1.0, R.Routing[0].CostRelativeToDense, 6);
        Assert.Equal((1.0, 1.0), (R.Routing[0].CostRangeMin, R.Routing[0].CostRangeMax)); // dense against itself in every round
        Assert.All(R.Routing, x => Assert.True(x.CostRangeMin > 0 && x.CostRangeMin <= x.CostRangeMax));
        Assert.Contains("(trained: true)", R.RoutingNote); // the shipped models/default
        Assert.DoesNotContain("UNTRAINED", R.RoutingNote);
    }

    [Fact]
    public void Every_format_was_decoded_by_both_sides_to_the_same_length()
    {
        Assert.Equal(["WAV", "MP3", "Vorbis", "Opus", "FLAC", "M4A (AAC, via ffmpeg)"], R.Decoding.Select(d => d.Format));
        Assert.All(R.Decoding, d =>
        {
            // Codec priming and padding move the end by a few ms at most.
            Assert.InRange(d.AudioSeconds, R.Options.DecodeSeconds - 0.1, R.Options.DecodeSeconds + 0.1);
            Assert.True(d.ManagedRealTime > 0);
            Assert.True(d.ManagedFirstRealTime > 0);
            Assert.True(d.ManagedCores > 0);
            Assert.True(d.FfmpegRealTime > 0);
            Assert.False(string.IsNullOrEmpty(d.Decoder));
        });
        Assert.Equal("ffmpeg", R.Decoding[^1].Decoder, ignoreCase: true);
    }

    [Fact]
    public void End_to_end_scanned_the_mixed_folder_and_the_long_file_with_peak_memory()
    {
        // The folder with the default precision, which is INT8 on the CPU since models/default carries the calibration, and
        // with --precision fp32; then the long file with the default. Each row's precision is what the scan reported.
        Assert.True(R.EndToEnd.Count == 3, $"end to end did not run: {R.EndToEndNote}\n{run.Log}");
        Assert.Equal(["int8", "fp32", "int8"], R.EndToEnd.Select(e => e.Precision));
        Assert.Equal(["default", "--precision fp32", "default"], R.EndToEnd.Select(e => e.Option));
        Assert.Contains("--precision fp32", R.EndToEnd[1].Command);
        Assert.DoesNotContain("--precision", R.EndToEnd[0].Command);
        Assert.All(R.EndToEnd, e =>
        {
            Assert.True(e.WallSeconds > 0 && e.RealTime > 0);
            Assert.InRange(e.WallSeconds, e.WallMin, e.WallMax);
            Assert.True(e.PeakMegabytes > 10, $"peak memory {e.PeakMegabytes} MB is not a .NET process's");
            Assert.Contains(" scan ", e.Command);
        });
        Assert.Equal([6, 6, 1], R.EndToEnd.Select(e => e.Files));
        Assert.Equal(R.Options.LongFileHours * 3600, R.EndToEnd[2].AudioSeconds, 0);
    }

    [Fact]
    public void Markdown_report_states_machine_load_targets_and_where_the_gpu_numbers_are()
    {
        var md = run.Markdown;
        Assert.Contains($"{R.Machine.Cores} cores", md);
        Assert.Contains("GFLOP/s", md);
        Assert.Contains(R.LoadBefore, md);
        Assert.Contains("## Targets of issue 7", md);
        Assert.Contains("This run, on the CPU machine, had no GPU.", md); // a CPU run never prints GPU numbers; moe-bench --gpu has its own page
        Assert.Contains("[benchmarks-gpu.md](benchmarks-gpu.md)", md);
        foreach (var d in R.Decoding) Assert.Contains($"| {d.Format} |", md);
        Assert.Contains("ffmpeg -nostdin -v error -i FILE -f s16le -ac 1 -ar 16000 -", md);
        // The 7-bit INT8 row is the format `moe scan` runs on the CPU by default, so its verdict says so whatever the keep rule decides.
        Assert.Contains(R.Levers, l => l.Lever == Int8Bench.Lever && l.Setting.StartsWith(Int8Bench.Describe(Int8Bench.Formats[0]), StringComparison.Ordinal));
        Assert.Matches(@"\| (yes: |\*\*)`moe scan`'s CPU default \(`--precision auto`\)", md);
        Assert.DoesNotContain("NaN", md);
    }
}
