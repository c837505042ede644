using System.Globalization;
using Path = System.IO.Path;

namespace MoeFunctions.Corpus;

/// <summary>A row of ../shared/data/manifest.csv.</summary>
public sealed record SharedClip(string ClipPath, string Label, string Source, string System, string Speaker,
    double DurationS, int SampleRate, string License)
{
    public static List<SharedClip> Load(string root)
    {
        var lines = File.ReadAllLines(Path.Combine(root, "manifest.csv"));
        var head = ManifestRow.SplitCsv(lines[0]);
        int Col(string n) => head.IndexOf(n) is var i and >= 0 ? i : throw new FormatException($"shared manifest lacks column {n}");
        int p = Col("path"), l = Col("label"), so = Col("source"), sy = Col("system"), sp = Col("speaker"),
            d = Col("duration_s"), sr = Col("sample_rate"), li = Col("license");
        return lines.Skip(1).Where(x => x.Length > 0).Select(ManifestRow.SplitCsv).Select(f => new SharedClip(
            f[p], f[l], f[so], f[sy], f[sp], double.Parse(f[d], CultureInfo.InvariantCulture),
            int.Parse(f[sr], CultureInfo.InvariantCulture), f[li])).OrderBy(c => c.ClipPath, StringComparer.Ordinal).ToList();
    }
}
