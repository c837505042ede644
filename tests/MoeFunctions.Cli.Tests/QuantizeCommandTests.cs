using MoeFunctions.Detection;
using MoeFunctions.Scanning.Tests.Local;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Cli.Tests;

/// <summary>`moe quantize` through the real command line: the happy path on a two-domain corpus of espeak-ng speech, and a bad
/// manifest refused without touching the bundle. (Calibration itself: MoeFunctions.Training.Tests QuantizeTests.)</summary>
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-cli-quantize");

    public void Dispose() => _dir.Dispose();

    /// <summary>A copy of models/default without its INT8 calibration.</summary>
    private string PlainBundle() => ShippedBundle.CopyTo(_dir.File("bundle"), withoutInt8: true);

    [Fact]
    public async Task Quantize_writes_the_calibration_and_the_version_and_the_scan_then_runs_int8()
    {
        var bundle = PlainBundle();
        var corpus = Directory.CreateDirectory(_dir.File("corpus")).FullName;
        string[] rows = ["path,label,domain,split,speaker,source,generator,license,duration_s"];
        var speech = new List<string>();
        foreach (var (domain, i) in new[] { ("D1", 0), ("D1", 1), ("D2", 2), ("D2", 3) })
        {
            var wav = TestMedia.Speech(Path.Combine(corpus, $"c{i}.wav"), $"Sentence number {i} of the calibration set, read slowly and clearly.", "en-us");
            speech.Add(wav);
            rows = [.. rows, $"c{i}.wav,{(i % 2 == 0 ? "bonafide" : "spoof")},{domain},train,s{i},espeak-ng,x,GPL-3.0,4.0"];
        }
        File.WriteAllLines(Path.Combine(corpus, "manifest.csv"), rows);

        var run = await CliRunner.RunAsync("quantize", "--bundle", bundle, "--manifest", corpus, "--files-per-domain", "2", "--version", "7.0.0-q");
        Assert.True(run.ExitCode == 0, run.Output);
        var m = ModelBundle.Load(bundle).Manifest;
        Assert.Equal("7.0.0-q", m.Version);
        Assert.All(m.Experts, e => Assert.NotNull(e.Int8));

        var json = _dir.File("r.json");
        var scan = await CliRunner.RunAsync("scan", speech[0], "--model", bundle, "--precision", "int8", "--quiet", "--json", json);
        Assert.True(scan.ExitCode == 0, scan.Output);
        Assert.Contains("\"precision\": \"int8\"", File.ReadAllText(json));
    }

    [Fact]
    public async Task A_missing_manifest_is_refused_and_the_bundle_is_left_alone()
    {
        var bundle = PlainBundle();
        var before = File.ReadAllText(Path.Combine(bundle, ModelBundle.ManifestFile));
        var run = await CliRunner.RunAsync("quantize", "--bundle", bundle, "--manifest", _dir.File("no-such-manifest.csv"));
        Assert.Equal(1, run.ExitCode);
        Assert.Equal(before, File.ReadAllText(Path.Combine(bundle, ModelBundle.ManifestFile)));

        var bad = await CliRunner.RunAsync("quantize", "--bundle", bundle, "--manifest", _dir.File("x.csv"), "--files-per-domain", "0");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--files-per-domain", bad.Output);
    }
}
