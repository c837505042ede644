using System.Globalization;
using System.Text;

namespace MoeFunctions.Corpus;

/// <summary>One corpus file. Column order is the manifest contract read by training.</summary>
public sealed record ManifestRow(
    string Path, string Label, string Domain, string Split, string Speaker,
    string Source, string Generator, string License, double DurationS)
{
    public const string Header = "path,label,domain,split,speaker,source,generator,license,duration_s";
    public static readonly string[] Labels = ["bonafide", "spoof"];
    public static readonly string[] Splits = ["train", "dev", "test"];
    public static readonly string[] Domains = ["D1", "D2", "D3", "D4"];

    public bool IsSpoof => Label == "spoof";

    public string ToCsv() => string.Join(',',
        Esc(Path), Label, Domain, Split, Esc(Speaker), Esc(Source), Esc(Generator), Esc(License),
        DurationS.ToString("0.000", CultureInfo.InvariantCulture));

    public static ManifestRow Parse(string line)
    {
        var f = SplitCsv(line);
        if (f.Count != 9) throw new FormatException($"manifest line has {f.Count} fields, expected 9: {line}");
        return new ManifestRow(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7],
            double.Parse(f[8], CultureInfo.InvariantCulture));
    }

    static string Esc(string s) =>
        s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    public static List<string> SplitCsv(string line)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}

public static class Manifest
{
    public static void Write(string path, IEnumerable<ManifestRow> rows)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        using (var w = new StreamWriter(tmp, false, new UTF8Encoding(false)))
        {
            w.NewLine = "\n";
            w.WriteLine(ManifestRow.Header);
            foreach (var r in rows) w.WriteLine(r.ToCsv());
        }
        File.Move(tmp, path, true);
    }

    public static List<ManifestRow> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != ManifestRow.Header)
            throw new FormatException($"{path}: header must be '{ManifestRow.Header}'");
        return lines.Skip(1).Where(l => l.Length > 0).Select(ManifestRow.Parse).ToList();
    }
}
