using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Cli.Reports;

/// <summary>How a result's verdict is shown to people: an untrained model's scored files read "untrained", never Fake or Real.</summary>
public static class VerdictDisplay
{
    public static bool IsUntrainedScore(ScanResult r) => !r.Model.Trained && r.Verdict == Verdict.Uncertain && r.SpoofProbability is not null;

    public static string Text(ScanResult r) => IsUntrainedScore(r) ? "untrained" : r.Verdict switch
    {
        Verdict.NotApplicable => "not applicable",
        var v => v.ToString().ToLowerInvariant(),
    };

    /// <summary>Spectre colour name per verdict.</summary>
    public static string Colour(ScanResult r) => IsUntrainedScore(r) ? "grey" : r.Verdict switch
    {
        Verdict.Fake => "red",
        Verdict.Real => "green",
        Verdict.Uncertain => "yellow",
        Verdict.Failed => "red",
        _ => "grey",
    };

    /// <summary>A path relative to the current folder when it lies under it (shorter tables), else as is.</summary>
    public static string ShortName(ScanResult r)
    {
        if (r.Source.Path is not { } path) return $"{r.Source.Container}/{r.Source.Name}";
        var rel = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? path : rel;
    }

    public static string Duration(double? seconds) => seconds is not { } s ? "" :
        s >= 3600 ? TimeSpan.FromSeconds(s).ToString(@"h\:mm\:ss") : TimeSpan.FromSeconds(s).ToString(@"m\:ss\.f");
}
