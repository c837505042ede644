using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MoeFunctions.App.Tests.Support;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.App.Tests;

/// <summary>The scoring deployment loads the bundle at start: a broken bundle stops the start, missing CUDA falls back with a warning.</summary>
public sealed class ScorerStartupTests
{
    private static string CopyOfDefaultBundle() => ShippedBundle.CopyTo();

    private static Task StartWarmUp(IHost host) =>
        host.Services.GetServices<IHostedService>().OfType<ScorerWarmUp>().Single().StartAsync(CancellationToken.None);

    [Fact]
    public async Task A_bundle_whose_file_does_not_match_its_hash_stops_the_start_naming_the_file()
    {
        string dir = CopyOfDefaultBundle();
        string gate = Path.Combine(dir, "gate-classic.onnx");
        var bytes = await File.ReadAllBytesAsync(gate);
        bytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(gate, bytes);
        var settings = AppTestHost.SampleSettings();
        settings["Moe__ModelPath"] = dir;
        using var host = AppTestHost.Build(settings);

        var e = await Assert.ThrowsAsync<BundleException>(() => StartWarmUp(host));
        Assert.Contains("gate-classic.onnx", e.Message);
    }

    [Fact]
    public async Task The_ingest_role_never_loads_the_model()
    {
        var settings = AppTestHost.SampleSettings();
        settings["Moe__Role"] = "Ingest";
        settings["Moe__ModelPath"] = Path.Combine(Path.GetTempPath(), "no-bundle-here-" + Guid.NewGuid());
        using var host = AppTestHost.Build(settings);
        await StartWarmUp(host);
        Assert.NotNull(ActivatorUtilities.CreateInstance<IngestMedia>(host.Services));
    }

    [Fact]
    public async Task Cuda_without_a_gpu_falls_back_to_the_cpu_with_a_warning_naming_the_setting()
    {
        var logs = new List<(LogLevel Level, string Message)>();
        var settings = AppTestHost.SampleSettings();
        settings["Moe__Device"] = "cuda";
        using var host = AppTestHost.Build(settings, s => s.AddSingleton<ILoggerProvider>(new ListLoggerProvider(logs)));
        await StartWarmUp(host);

        var scorer = host.Services.GetRequiredService<IWindowScorer>();
        if (scorer.Model.Device == "cuda") return; // a machine with CUDA 13 + cuDNN 9: nothing to fall back from
        Assert.Equal("cpu", scorer.Model.Device);
        lock (logs) Assert.Contains(logs, l => l.Level == LogLevel.Warning && l.Message.Contains("Moe__Device"));
        Assert.Equal(scorer.Manifest.Experts.Count, scorer.Score([new float[48000]])[0].GateWeights.Length);
    }

    [Theory]
    [InlineData("Int8", "int8")]
    [InlineData("Auto", "int8")] // the bundled model carries the INT8 calibration (`moe quantize`) and this is the CPU
    [InlineData(null, "int8")] // unset: Auto
    [InlineData("Fp32", "fp32")]
    public async Task Moe__Precision_picks_the_experts_arithmetic_and_the_result_records_it(string? setting, string expected)
    {
        var settings = AppTestHost.SampleSettings();
        if (setting is null) settings.Remove("Moe__Precision");
        else settings["Moe__Precision"] = setting;
        using var host = AppTestHost.Build(settings);
        await StartWarmUp(host);

        var scorer = host.Services.GetRequiredService<IWindowScorer>();
        Assert.Equal(expected, scorer.Model.Precision);
        var window = Enumerable.Range(0, 48000).Select(i => 0.3f * MathF.Sin(i * 0.05f) * MathF.Sin(i * 0.0007f)).ToArray();
        Assert.InRange(scorer.Score([window])[0].SpoofProbability, 0, 1);
    }

    private sealed class ListLoggerProvider(List<(LogLevel, string)> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new L(sink);
        public void Dispose() { }
        private sealed class L(List<(LogLevel, string)> sink) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (sink) sink.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
