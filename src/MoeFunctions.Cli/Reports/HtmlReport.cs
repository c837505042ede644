using System.Globalization;
using System.Net;
using System.Text;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Local;

namespace MoeFunctions.Cli.Reports;

/// <summary>A self-contained HTML report: model, summary table, and per file its verdict, expert weights and timeline plot (inline SVG). Every text from inputs is HTML-encoded.</summary>
public static class HtmlReport
{
    public static string Render(IReadOnlyList<ScanResult> results, ModelSummary model)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        static string F(double? v, string format = "0.000") => v?.ToString(format, CultureInfo.InvariantCulture) ?? "";
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>moe scan report</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
            .fake{color:#b00;font-weight:bold}.real{color:#070;font-weight:bold}.uncertain{color:#a60}.failed{color:#b00}
            .untrained,.notapplicable{color:#666}
            .banner{background:#fff3cd;border:1px solid #e0c060;padding:1em;margin:1em 0}
            section{border-top:1px solid #ddd;margin-top:2em;padding-top:1em}
            </style></head><body>
            <h1>moe scan report</h1>
            """);
        html.Append(CultureInfo.InvariantCulture,
            $"<p>Model <b>{E(model.Name)} {E(model.Version)}</b> (sha256 {E(model.Sha256)}), mode {E(model.Mode.ToString().ToLowerInvariant())}, top-k {model.TopK}, gate {E(model.Gate.ToString().ToLowerInvariant())}, device {E(model.Device)}, threshold {F(model.Threshold)} ± {F(model.UncertainBand)}. {results.Count} file(s).</p>\n");
        if (!model.Trained)
            html.Append("<div class=\"banner\"><b>Untrained model.</b> This bundle's weights are not trained (moe.json trained = false). " +
                        "Its scores are placeholders and no file below has a verdict: scored files are shown as <i>untrained</i>.</div>\n");

        html.Append("<table><tr><th>File</th><th>Verdict</th><th>P(spoof)</th><th>Duration</th><th>Top expert</th><th>Note</th></tr>\n");
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var top = ResultFiles.TopExpert(r) is { } t ? $"{t.Name} ({t.Weight:0.00})" : "";
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td><a href=\"#f{i}\">{E(VerdictDisplay.ShortName(r))}</a></td><td class=\"{CssClass(r)}\">{E(VerdictDisplay.Text(r))}</td><td>{F(r.SpoofProbability)}</td><td>{E(VerdictDisplay.Duration(r.Media?.DurationSeconds))}</td><td>{E(top)}</td><td>{E(VerdictDisplay.IsUntrainedScore(r) ? "" : r.Reason)}</td></tr>\n");
        }
        html.Append("</table>\n");

        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            html.Append(CultureInfo.InvariantCulture, $"<section id=\"f{i}\"><h2>{E(VerdictDisplay.ShortName(r))}</h2>\n");
            html.Append(CultureInfo.InvariantCulture, $"<p>Verdict <span class=\"{CssClass(r)}\">{E(VerdictDisplay.Text(r))}</span>");
            if (r.SpoofProbability is { } p) html.Append(CultureInfo.InvariantCulture, $", P(spoof) {F(p)}");
            if (r.Reason is { } reason) html.Append(CultureInfo.InvariantCulture, $". {E(reason)}");
            html.Append("</p>\n");
            if (r.Media is { } m)
                html.Append(CultureInfo.InvariantCulture,
                    $"<p>{E(m.Format)} via {E(m.Decoder)}, {m.SampleRate} Hz, {m.Channels} channel(s), {E(VerdictDisplay.Duration(m.DurationSeconds))}; {r.WindowsScored} window(s) scored, {r.WindowsNotApplicable} without speech. Scan id {E(r.ScanId)}.</p>\n");
            if (r.ExpertWeights.Count > 0)
                html.Append("<p>Mean gate weight per expert: ")
                    .AppendJoin(", ", r.ExpertWeights.OrderByDescending(kv => kv.Value).Select(kv => $"{E(kv.Key)} {F(kv.Value, "0.00")}"))
                    .Append("</p>\n");
            if (r.Timeline.Count > 0)
                html.Append("<p>Suspicious segments: ")
                    .AppendJoin(", ", r.Timeline.Select(s => $"{F(s.StartSeconds, "0.0")}–{F(s.EndSeconds, "0.0")} s ({F(s.SpoofProbability, "0.00")})"))
                    .Append("</p>\n");
            if (r.Windows.Count > 0) html.Append("<div class=\"plot\">").Append(TimelinePlot.Svg(r)).Append("</div>\n");
            html.Append("</section>\n");
        }
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static string CssClass(ScanResult r) => VerdictDisplay.Text(r).Replace(" ", "");
}
