using System.Globalization;
using System.Text;
using System.Text.Json;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Local;

/// <summary>Writes scan results to files the user named: a JSON array, JSON Lines (streamed) and CSV.</summary>
public static class ResultFiles
{
    /// <summary>A JSON array of <see cref="ScanResult"/> documents, in the order given.</summary>
    public static async Task WriteJsonAsync(string path, IEnumerable<ScanResult> results, CancellationToken ct = default)
    {
        await using var stream = Create(path);
        await JsonSerializer.SerializeAsync(stream, results.ToArray(), ScanJson.Indented, ct).ConfigureAwait(false);
    }

    public const string CsvHeader =
        "path,scan_id,verdict,spoof_probability,reason,format,decoder,duration_s,sample_rate,channels," +
        "windows_scored,windows_not_applicable,top_expert,top_expert_weight,suspicious_segments," +
        "model,model_version,model_trained,mode,threshold,total_ms";

    /// <summary>One row per result; numbers in invariant culture; text cells quoted when needed and guarded against spreadsheet formulas.</summary>
    public static async Task WriteCsvAsync(string path, IEnumerable<ScanResult> results, CancellationToken ct = default)
    {
        await using var writer = new StreamWriter(Create(path), new UTF8Encoding(false));
        await writer.WriteLineAsync(CsvHeader.AsMemory(), ct).ConfigureAwait(false);
        foreach (var r in results) await writer.WriteLineAsync(CsvRow(r).AsMemory(), ct).ConfigureAwait(false);
    }

    public static string CsvRow(ScanResult r)
    {
        var top = TopExpert(r);
        string?[] cells =
        [
            r.Source.Path ?? $"{r.Source.Container}/{r.Source.Name}", r.ScanId, r.Verdict.ToString(), Num(r.SpoofProbability, "0.######"),
            r.Reason, r.Media?.Format, r.Media?.Decoder, Num(r.Media?.DurationSeconds, "0.###"), r.Media?.SampleRate.ToString(CultureInfo.InvariantCulture),
            r.Media?.Channels.ToString(CultureInfo.InvariantCulture), r.WindowsScored.ToString(CultureInfo.InvariantCulture),
            r.WindowsNotApplicable.ToString(CultureInfo.InvariantCulture), top?.Name, Num(top?.Weight, "0.####"),
            r.Timeline.Count.ToString(CultureInfo.InvariantCulture), r.Model.Name, r.Model.Version, r.Model.Trained ? "true" : "false",
            r.Model.Mode.ToString().ToLowerInvariant(), Num(r.Model.Threshold, "0.###"), Num(r.Timings.TotalMs, "0.#"),
        ];
        return string.Join(',', cells.Select(Cell));
    }

    /// <summary>The expert with the highest mean gate weight: the domain the file most resembles.</summary>
    public static (string Name, double Weight)? TopExpert(ScanResult r)
    {
        if (r.ExpertWeights.Count == 0) return null;
        var top = r.ExpertWeights.MaxBy(kv => kv.Value);
        return (top.Key, top.Value);
    }

    private static string? Num(double? v, string format) => v?.ToString(format, CultureInfo.InvariantCulture);

    private static string Cell(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        // A cell starting with = + - @ is run as a formula by spreadsheets; a leading quote keeps it text (numbers are never prefixed).
        if (text[0] is '=' or '+' or '@' or '\t' or '\r' || (text[0] == '-' && !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            text = "'" + text;
        return text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }

    /// <summary>Creates (or truncates) the file, making its folder first.</summary>
    public static FileStream Create(string path)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        return new FileStream(full, FileMode.Create, FileAccess.Write, FileShare.Read);
    }
}

/// <summary>JSON Lines: one compact <see cref="ScanResult"/> per line, flushed as each file finishes (so a long scan can be followed).</summary>
public sealed class JsonlResultWriter : IAsyncDisposable
{
    private readonly StreamWriter _writer;
    private readonly SemaphoreSlim _lock = new(1, 1);

    public JsonlResultWriter(string path) => _writer = new StreamWriter(ResultFiles.Create(path), new UTF8Encoding(false));

    public async Task WriteAsync(ScanResult result, CancellationToken ct = default)
    {
        var line = JsonSerializer.Serialize(result, ScanJson.Options);
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _writer.WriteLineAsync(line.AsMemory(), ct).ConfigureAwait(false);
            await _writer.FlushAsync(ct).ConfigureAwait(false);
        }
        finally { _lock.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        _lock.Dispose();
    }
}
