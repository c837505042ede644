using System.Xml.Linq;
using MoeFunctions.Cli.Reports;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Local;

namespace MoeFunctions.Cli.Tests;

/// <summary>Report rendering on hand-made results: hostile file names stay text, the plot is valid SVG, CSV cells survive commas and formulas.</summary>
public sealed class ReportTests
{
    private static readonly ModelSummary Model = new()
    {
        Name = "m", Version = "1", Sha256 = "ab", Trained = true, Threshold = 0.5, UncertainBand = 0.15,
        Experts = [new ExpertSummary("asv19", "ASVspoof 2019 LA"), new ExpertSummary("itw", "In the Wild")],
    };

    private static ScanResult Result(string path, Verdict verdict, double? p, bool trained = true) => new()
    {
        ScanId = "0123456789abcdef",
        Source = new ScanSource { Path = path, Bytes = 10 },
        Verdict = verdict,
        SpoofProbability = p,
        Model = Model with { Trained = trained },
        Media = new MediaSummary("wav", "NAudio.Core", 22050, 1, 7.5),
        ExpertWeights = new Dictionary<string, double> { ["asv19"] = 0.7, ["itw"] = 0.3 },
        Timeline = [new Segment(3, 6, 0.9)],
        Windows =
        [
            new WindowRecord { Index = 0, Start = 0, End = 3, Speech = true, Score = 0.2, Gate = [0.7f, 0.3f], Experts = [0.8f, null] },
            new WindowRecord { Index = 1, Start = 3, End = 6, Speech = true, Score = 0.9, Gate = [0.7f, 0.3f], Experts = [0.1f, null] },
            new WindowRecord { Index = 2, Start = 4.5, End = 7.5, Speech = false },
        ],
        WindowsScored = 2,
        WindowsNotApplicable = 1,
    };

    [Fact]
    public void HtmlEncodesFileNamesAndEmbedsOneSvgPerScoredFile()
    {
        var evil = "/tmp/<script>alert(1)</script>.wav";
        var html = HtmlReport.Render([Result(evil, Verdict.Fake, 0.9), Result("/tmp/b.wav", Verdict.Failed, null) with { Windows = [] }], Model);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.Equal(1, CountOf(html, "<svg"));
        Assert.Contains("3.0–6.0 s", html); // the suspicious segment is listed
        Assert.DoesNotContain("Untrained model", html);
    }

    [Fact]
    public void TimelineSvgIsWellFormedXml()
    {
        var svg = TimelinePlot.Svg(Result("/a.wav", Verdict.Fake, 0.9));
        var doc = XDocument.Parse(svg);
        Assert.Equal("svg", doc.Root!.Name.LocalName);
    }

    [Fact]
    public void UntrainedResultsAreShownAsUntrained()
    {
        var r = Result("/a.wav", Verdict.Uncertain, 0.97, trained: false);
        Assert.Equal("untrained", VerdictDisplay.Text(r));
        var html = HtmlReport.Render([r], Model with { Trained = false });
        Assert.Contains("Untrained model", html);
        Assert.DoesNotContain(">fake<", html);
    }

    [Fact]
    public void CsvQuotesCommasAndDefusesFormulas()
    {
        var row = ResultFiles.CsvRow(Result("/data/a,b \"x\".wav", Verdict.Real, 0.1) with { Reason = "=HYPERLINK(\"x\")" });
        Assert.StartsWith("\"/data/a,b \"\"x\"\".wav\",0123456789abcdef,Real,0.1,\"'=HYPERLINK(\"\"x\"\")\",wav", row);
        Assert.Contains(",asv19,0.7,1,m,1,true,", row);
    }

    private static int CountOf(string s, string what)
    {
        var n = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
