using System.Text.Json;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests.Pipeline;

/// <summary>
/// Issue 8: `moe scan` on files whose names carry markup, quotes, a leading dash and unicode writes exactly the outputs
/// it was asked for, where it was asked, and the HTML report shows the names as text, never as markup.
/// </summary>
public sealed class HostileNameScanTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-hostile-names");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task HostileFileNamesStayDataAndOutputsGoOnlyWhereAsked()
    {
        string[] names = ["<img src=x onerror=alert(1)>.wav", "-rf.wav", "quote\"s 'x'.wav", "ünï ✓.wav"];
        var input = _dir.File("in/placeholder");
        Directory.CreateDirectory(Path.GetDirectoryName(input)!);
        var files = names.Select(n => TestMedia.Speech(Path.Combine(Path.GetDirectoryName(input)!, n), "A short sentence for the scanner.")).ToList();
        var bundle = _dir.File("bundle");
        TestBundles.Write(bundle, [0.9, 0.5], [4f, 0f], true);
        var outDir = _dir.File("out");
        Directory.CreateDirectory(outDir);
        string json = Path.Combine(outDir, "r.json"), html = Path.Combine(outDir, "report.html"), csv = Path.Combine(outDir, "r.csv");

        var run = await CliRunner.RunAsync("scan", Path.GetDirectoryName(input)!, "--model", bundle, "--json", json, "--html", html, "--csv", csv);
        Assert.Equal(ExitCodes.Ok, run.ExitCode);

        Assert.Equal(new[] { "r.csv", "r.json", "report.html" }, Directory.GetFileSystemEntries(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(files.Order(StringComparer.Ordinal), Directory.GetFiles(Path.GetDirectoryName(input)!).Order(StringComparer.Ordinal)); // inputs untouched, nothing added
        var results = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!;
        Assert.Equal(files.Order(StringComparer.Ordinal), results.Select(r => r.Source.Path!).Order(StringComparer.Ordinal));

        var report = File.ReadAllText(html);
        Assert.DoesNotContain("<img src=x", report);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;.wav", report);
        Assert.Contains("ünï ✓.wav", System.Net.WebUtility.HtmlDecode(report)); // shown, as entities or not
    }
}
