using MoeFunctions.Scanning.Contracts;
using ScottPlot;

namespace MoeFunctions.Cli.Reports;

/// <summary>One file's timeline as SVG: P(spoof) per window over time, the threshold and its uncertain band, suspicious segments shaded, non-speech windows marked.</summary>
public static class TimelinePlot
{
    public static string Svg(ScanResult r, int width = 900, int height = 260)
    {
        var plot = new Plot();
        // ScottPlot names spans by the axis they stretch along: a VerticalSpan covers a range of y, a HorizontalSpan a range of x.
        var band = plot.Add.VerticalSpan(Math.Max(0, r.Model.Threshold - r.Model.UncertainBand), Math.Min(1, r.Model.Threshold + r.Model.UncertainBand));
        band.FillStyle.Color = Colors.Gray.WithAlpha(0.15);
        band.LineStyle.Width = 0;
        foreach (var s in r.Timeline)
        {
            var span = plot.Add.HorizontalSpan(s.StartSeconds, s.EndSeconds);
            span.FillStyle.Color = Colors.Red.WithAlpha(0.18);
            span.LineStyle.Width = 0;
        }
        var threshold = plot.Add.HorizontalLine(r.Model.Threshold);
        threshold.LinePattern = LinePattern.Dashed;
        threshold.Color = Colors.Black;
        threshold.LegendText = "threshold";

        var scored = r.Windows.Where(w => w.Score is not null).ToArray();
        if (scored.Length > 0)
        {
            var line = plot.Add.Scatter(scored.Select(Mid).ToArray(), scored.Select(w => w.Score!.Value).ToArray());
            line.Color = r.Model.Trained ? Colors.Blue : Colors.Gray;
            line.MarkerSize = 5;
            line.LegendText = r.Model.Trained ? "P(spoof) per window" : "untrained score per window";
        }
        var silent = r.Windows.Where(w => !w.Speech).ToArray();
        if (silent.Length > 0)
        {
            var marks = plot.Add.ScatterPoints(silent.Select(Mid).ToArray(), silent.Select(_ => 0.0).ToArray());
            marks.Color = Colors.Gray;
            marks.MarkerShape = MarkerShape.OpenCircle;
            marks.LegendText = "no speech (not scored)";
        }

        var end = Math.Max(r.Media?.DurationSeconds ?? 0, r.Windows.Count > 0 ? r.Windows.Max(w => w.End) : 0);
        plot.Axes.SetLimits(0, Math.Max(end, 1), -0.05, 1.05);
        plot.XLabel("time (s)");
        plot.YLabel("P(spoof)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetSvgXml(width, height);
    }

    private static double Mid(WindowRecord w) => (w.Start + w.End) / 2;
}
