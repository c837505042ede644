using System.Globalization;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Local;
using Spectre.Console;

namespace MoeFunctions.Cli.Reports;

/// <summary>The table printed at the end of a scan: file, verdict, P(spoof), duration, top expert, note.</summary>
public static class SummaryTable
{
    public static Table Build(IEnumerable<ScanResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("File").AddColumn("Verdict").AddColumn(new TableColumn("P(spoof)").RightAligned())
            .AddColumn(new TableColumn("Duration").RightAligned()).AddColumn("Top expert").AddColumn("Note");
        foreach (var r in results)
        {
            var untrained = VerdictDisplay.IsUntrainedScore(r);
            var p = r.SpoofProbability?.ToString("0.000", CultureInfo.InvariantCulture) ?? "";
            var top = ResultFiles.TopExpert(r) is { } t ? $"{t.Name} ({t.Weight:0.00})" : "";
            var note = untrained ? "" : r.Reason ?? (r.Timeline.Count > 0 ? $"{r.Timeline.Count} suspicious segment(s)" : "");
            table.AddRow(
                new Text(VerdictDisplay.ShortName(r)),
                new Markup($"[{VerdictDisplay.Colour(r)}]{Markup.Escape(VerdictDisplay.Text(r))}[/]"),
                new Markup(untrained ? $"[grey]{p}[/]" : p),
                new Text(VerdictDisplay.Duration(r.Media?.DurationSeconds)),
                new Text(top),
                new Text(note));
        }
        return table;
    }
}
