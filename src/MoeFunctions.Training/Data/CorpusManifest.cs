namespace MoeFunctions.Training.Data;

/// <summary>One row of a corpus manifest.csv (path relative to the corpus root; label bonafide|spoof).</summary>
public sealed record CorpusEntry(string Path, bool Spoof, string Domain, string Split, string Speaker, string Source,
    string Generator, string License, double DurationSeconds);

/// <summary>
/// Reads a corpus manifest.csv with the columns path,label,domain,split,speaker,source,generator,license,duration_s
/// (any order, header required; RFC 4180 quoting).
/// </summary>
public sealed class CorpusManifest
{
    public required string Root { get; init; }
    public required IReadOnlyList<CorpusEntry> Entries { get; init; }

    public string FullPath(CorpusEntry e) => System.IO.Path.Combine(Root, e.Path);

    public IEnumerable<CorpusEntry> Select(string? domain = null, string? split = null) =>
        Entries.Where(e => (domain is null || e.Domain.Equals(domain, StringComparison.OrdinalIgnoreCase))
                        && (split is null || e.Split.Equals(split, StringComparison.OrdinalIgnoreCase)));

    public IReadOnlyList<string> Domains => Entries.Select(e => e.Domain).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <param name="path">A manifest.csv or the corpus folder holding one.</param>
    public static CorpusManifest Load(string path)
    {
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, "manifest.csv") : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"corpus manifest not found: {file}", file);
        var lines = File.ReadAllLines(file).Where(l => l.Length > 0).ToList();
        if (lines.Count == 0) throw new InvalidDataException($"{file}: empty manifest");
        var header = ParseCsvLine(lines[0]).Select(h => h.Trim().ToLowerInvariant()).ToList();
        int Col(string name)
        {
            int i = header.IndexOf(name);
            if (i < 0) throw new InvalidDataException($"{file}: column '{name}' missing (header: {lines[0]})");
            return i;
        }
        int cPath = Col("path"), cLabel = Col("label"), cDomain = Col("domain"), cSplit = Col("split");
        int cSpeaker = header.IndexOf("speaker"), cSource = header.IndexOf("source"), cGen = header.IndexOf("generator"),
            cLic = header.IndexOf("license"), cDur = header.IndexOf("duration_s");
        var entries = new List<CorpusEntry>(lines.Count - 1);
        for (int n = 1; n < lines.Count; n++)
        {
            var f = ParseCsvLine(lines[n]);
            string At(int i) => i >= 0 && i < f.Count ? f[i] : "";
            var label = At(cLabel).Trim().ToLowerInvariant();
            if (label is not ("bonafide" or "spoof"))
                throw new InvalidDataException($"{file}:{n + 1}: label '{At(cLabel)}' is neither bonafide nor spoof");
            double.TryParse(At(cDur), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var dur);
            entries.Add(new CorpusEntry(At(cPath), label == "spoof", At(cDomain), At(cSplit).Trim().ToLowerInvariant(), At(cSpeaker),
                At(cSource), At(cGen), At(cLic), dur));
        }
        return new CorpusManifest { Root = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))!, Entries = entries };
    }

    internal static List<string> ParseCsvLine(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { current.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else current.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(current.ToString()); current.Clear(); }
            else current.Append(c);
        }
        fields.Add(current.ToString().TrimEnd('\r'));
        return fields;
    }
}
