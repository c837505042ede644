using System.Diagnostics;
using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Tests.Local;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Cli.Tests.Pipeline;

/// <summary>`moe scan` end to end, in-process through the CommandApp, on real files and real ONNX bundles.</summary>
public sealed class ScanCommandTests(ScanMedia media) : IClassFixture<ScanMedia>, IDisposable
{
    private readonly ScratchDir _out = new("moe-scan-cli");

    public void Dispose() => _out.Dispose();

    /// <summary>Expert 0 (preferred by the gate) says P(spoof) = <paramref name="spoof"/>.</summary>
    private string Bundle(double spoof, bool trained = true)
    {
        var dir = Path.Combine(_out.Path, $"bundle-{Guid.NewGuid():N}");
        TestBundles.Write(dir, [spoof, 0.5], [4f, 0f], trained);
        return dir;
    }

    [Fact]
    public async Task FolderAndGlobScanWritesEveryOutputAndExitsOneForTheFailedFile()
    {
        string json = _out.File("r/all.json"), jsonl = _out.File("r/all.jsonl"), csv = _out.File("r/all.csv"), html = _out.File("r/report.html");
        var glob = Path.Combine(media.Dir.Path, "long") + "/**/*.wav";
        var run = await CliRunner.RunAsync("scan", Path.Combine(media.Dir.Path, "set"), glob, "--model", Bundle(0.9),
            "--json", json, "--jsonl", jsonl, "--csv", csv, "--html", html);

        // set/ holds speech.wav, sub/speech.mp3, sub/deeper/speech.opus and notes.wav (text); the glob adds long/long.wav.
        string[] expected = [media.Wav, media.Mp3, media.Opus, media.NotAudio, media.Long];
        Assert.Equal(ExitCodes.SomeFailed, run.ExitCode);

        var results = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!;
        Assert.Equal(expected.Order(StringComparer.Ordinal), results.Select(r => r.Source.Path!).Order(StringComparer.Ordinal));
        Assert.Equal(Verdict.Failed, results.Single(r => r.Source.Path == media.NotAudio).Verdict);
        Assert.All(results.Where(r => r.Source.Path != media.NotAudio), r => Assert.Equal(Verdict.Fake, r.Verdict));

        var lines = File.ReadAllLines(jsonl);
        Assert.Equal(expected.Length, lines.Length);
        Assert.Equal(expected.Order(StringComparer.Ordinal),
            lines.Select(l => JsonSerializer.Deserialize<ScanResult>(l, ScanJson.Options)!.Source.Path!).Order(StringComparer.Ordinal));

        var rows = File.ReadAllLines(csv);
        Assert.Equal(expected.Length + 1, rows.Length);
        Assert.StartsWith("path,scan_id,verdict,", rows[0]);
        Assert.All(expected, f => Assert.Single(rows, row => row.StartsWith(f + ",", StringComparison.Ordinal)));

        var report = File.ReadAllText(html);
        Assert.All(expected, f => Assert.Contains(Path.GetFileName(f), report));
        Assert.Equal(4, report.Split("<svg").Length - 1); // one timeline per decoded file

        Assert.Contains("speech.opus", run.Output);     // summary table
        Assert.Contains("fake", run.Output);
        Assert.Contains("failed", run.Output);
        Assert.Contains("5 file(s): 4 fake, 0 real", run.Output);
    }

    [Fact]
    public async Task FailOnFakeExitsThreeEvenWithAFailedFile()
    {
        var run = await CliRunner.RunAsync("scan", media.Wav, media.NotAudio, "--model", Bundle(0.9), "--fail-on-fake", "--quiet");
        Assert.Equal(ExitCodes.FakesFound, run.ExitCode);
        Assert.Contains($"failed: {media.NotAudio}", run.Output); // quiet still names failures
        Assert.DoesNotContain("P(spoof)", run.Output);            // but prints no table
    }

    [Fact]
    public async Task RealFilesExitZeroEvenWithFailOnFake()
    {
        var run = await CliRunner.RunAsync("scan", media.Wav, media.Mp3, media.Silence, "--model", Bundle(0.05), "--fail-on-fake");
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("2 real", run.Output);
        Assert.Contains("1 not applicable", run.Output);
    }

    [Fact]
    public async Task ATerminalGetsAProgressBarWithFilesAndAudioRate()
    {
        var run = await CliRunner.RunAsync(interactive: true, "scan", media.Wav, media.Long, "--model", Bundle(0.9));
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        Assert.Contains("2/2 files", run.Output);
        Assert.Contains("h/s", run.Output);
        Assert.Contains("100%", run.Output);
    }

    [Fact]
    public async Task ThresholdOptionMovesTheDecision()
    {
        var json = _out.File("t.json");
        // P(spoof) = 0.6: Uncertain at the default 0.5 +- 0.15; Real once the threshold is 0.9 (0.6 < 0.9 - 0.15).
        var run = await CliRunner.RunAsync("scan", media.Wav, "--model", Bundle(0.6), "--threshold", "0.9", "--json", json);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var r = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!.Single();
        Assert.Equal(Verdict.Real, r.Verdict);
        Assert.Equal(0.9, r.Model.Threshold);
    }

    [Fact]
    public async Task AnUntrainedBundleIsAnnouncedAndNeverGivesVerdicts()
    {
        var json = _out.File("u.json");
        var run = await CliRunner.RunAsync("scan", media.Wav, "--model", Bundle(0.95, trained: false), "--json", json, "--fail-on-fake");
        Assert.Equal(ExitCodes.Ok, run.ExitCode); // nothing is Fake, so --fail-on-fake cannot fire
        Assert.Contains("NOT TRAINED", run.Output);
        Assert.Contains("untrained", run.Output);
        Assert.Contains("1 file(s): 0 fake, 0 real, 1 untrained, 0 uncertain", run.Output);
        var r = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!.Single();
        Assert.False(r.Model.Trained);
        Assert.Equal(Verdict.Uncertain, r.Verdict);
    }

    [Fact]
    public async Task TheBundledDefaultModelIsFoundNextToTheExecutable()
    {
        var run = await CliRunner.RunAsync("scan", media.Wav, "--quiet", "--json", _out.File("d.json"));
        Assert.Equal(ExitCodes.Ok, run.ExitCode);
        var r = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(_out.File("d.json")), ScanJson.Options)!.Single();
        var manifest = JsonSerializer.Deserialize<BundleManifest>(
            File.ReadAllText(Path.Combine(ShippedBundle.Folder, "moe.json")), BundleJson.Options)!;
        Assert.Equal(manifest.Name, r.Model.Name);
        Assert.Equal(manifest.Trained, r.Model.Trained);
        if (!manifest.Trained) Assert.Contains("NOT TRAINED", run.Output);
    }

    [Fact]
    public async Task ABrokenBundleIsAModelError()
    {
        var dir = Bundle(0.9);
        File.WriteAllBytes(Path.Combine(dir, "expert-0.onnx"), [1, 2, 3]);
        var run = await CliRunner.RunAsync("scan", media.Wav, "--model", dir);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("model error", run.Output);
        Assert.Contains("expert-0.onnx", run.Output);
    }

    [Fact]
    public async Task TopKAboveTheExpertCountIsAModelError()
    {
        var run = await CliRunner.RunAsync("scan", media.Wav, "--model", Bundle(0.9), "--top-k", "5");
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("model error", run.Output);
    }

    [Fact]
    public async Task TheBuiltExecutableRunsAsAProcess()
    {
        var moeDll = Path.Combine(AppContext.BaseDirectory, "moe.dll");
        var json = _out.File("p.json");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { moeDll, "scan", media.Wav, media.NotAudio, "--model", Bundle(0.9), "--json", json }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "moe did not finish");
        Assert.True(p.ExitCode == ExitCodes.SomeFailed, $"exit {p.ExitCode}: {await stdout} {await stderr}");
        Assert.Contains("2 file(s): 1 fake, 0 real, 0 uncertain, 0 not applicable, 1 failed", await stdout);
        Assert.Equal(2, JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!.Length);
    }
}
