using System.Text;
using System.Text.RegularExpressions;

namespace MoeFunctions.Corpus;

/// <summary>
/// Texts for the D3 fakes: the English Asterisk transcript, the digits/letters/days/months that follow from a
/// prompt's file name in any language, and same-language filler text (fortunes, word lists, numbers) for the
/// rest, so every language's fakes speak that language.
/// </summary>
public static partial class PromptTexts
{
    static readonly Dictionary<string, string[]> Days = new()
    {
        ["en"] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
        ["fr"] = ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        ["es"] = ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
        ["it"] = ["domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"],
    };
    static readonly Dictionary<string, string[]> Months = new()
    {
        ["en"] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
        ["fr"] = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"],
        ["es"] = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
        ["it"] = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
    };

    [GeneratedRegex(@"\[[^\]]*\]|\([^)]*\)")]
    private static partial Regex Annotation();

    /// <summary>name -> raw transcript text (annotations still in).</summary>
    public static Dictionary<string, string> LoadEnglish(string path)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            int i = line.IndexOf(": ", StringComparison.Ordinal);
            if (i > 0) d[line[..i].Trim()] = line[(i + 2)..].Trim();
        }
        return d;
    }

    static string Clean(string t) => Regex.Replace(Annotation().Replace(t, " "), @"\s+", " ").Trim();

    /// <summary>False for tones, beeps and silence files (their English transcript is only an annotation).</summary>
    public static bool IsSpeech(string name, IReadOnlyDictionary<string, string> en) =>
        !name.StartsWith("silence/", StringComparison.Ordinal)
        && !(en.TryGetValue(name, out var t) && Clean(t).Length == 0)
        && name is not ("beep" or "beeperr" or "ascending-2tone" or "descending-2tone");

    /// <summary>The prompt's words in <paramref name="lang"/> when known, else null.</summary>
    public static string? Known(string name, string lang, IReadOnlyDictionary<string, string> en)
    {
        if (lang == "en" && en.TryGetValue(name, out var t) && Clean(t).Length > 0) return Clean(t);
        var parts = name.Split('/');
        if (parts.Length != 2) return null;
        var (dir, file) = (parts[0], parts[1]);
        if (dir == "digits" && int.TryParse(file, out var n)) return n.ToString(); // synthesisers read numerals in their own language
        if (dir == "digits" && file.StartsWith("day-") && int.TryParse(file[4..], out var day) && day is >= 0 and < 7) return Days[lang][day];
        if (dir == "digits" && file.StartsWith("mon-") && int.TryParse(file[4..], out var mon) && mon is >= 0 and < 12) return Months[lang][mon];
        if (dir == "letters" && file.Length == 1 && char.IsLetter(file[0])) return file.ToUpperInvariant();
        return null;
    }

    /// <summary>Split unit: the English text where known (same words, same split in every language), else the prompt name.</summary>
    public static string GroupKey(string name, IReadOnlyDictionary<string, string> en) =>
        en.TryGetValue(name, out var t) && Clean(t).Length > 0
            ? "t:" + Regex.Replace(Clean(t).ToLowerInvariant(), "[^a-z0-9 ]", "")
            : "n:" + name;

    public static string FillerLicense(string lang) => lang switch
    {
        "es" or "it" => "fortunes-" + lang + ":GPL-2.0-or-later",
        "fr" => "wfrench:GPL-2.0-or-later",
        _ => "generated-numbers",
    };

    /// <summary>Shuffled same-language filler sentences (deterministic from <paramref name="rng"/>).</summary>
    public static List<string> Fillers(string lang, CorpusOptions o, Random rng)
    {
        var list = new List<string>();
        if (lang is "es" or "it")
        {
            string dir = Path.Combine(o.Fortunes, lang);
            if (Directory.Exists(dir))
                foreach (var f in Directory.EnumerateFiles(dir).Where(f => !f.EndsWith(".dat") && !f.EndsWith(".u8")).Order(StringComparer.Ordinal))
                    foreach (var entry in File.ReadAllText(f, Encoding.UTF8).Split("\n%\n"))
                    {
                        var body = string.Join(' ', entry.Split('\n').Where(l => !l.TrimStart().StartsWith("--")));
                        foreach (var s in Regex.Split(body, @"(?<=[.!?])\s+"))
                        {
                            var c = Regex.Replace(s, @"\s+", " ").Trim();
                            if (c.Length is >= 12 and <= 160 && c.All(ch => char.IsLetter(ch) || " ,.;:!?'¿¡-".Contains(ch))) list.Add(c);
                        }
                    }
        }
        if (lang == "fr" && File.Exists(o.FrenchWords))
        {
            var words = File.ReadLines(o.FrenchWords).Where(w => w.Length >= 3 && w.All(char.IsLetter)).ToList();
            for (int i = 0; i < 3000 && words.Count > 0; i++)
                list.Add(string.Join(' ', Enumerable.Range(0, rng.Next(2, 10)).Select(_ => words[rng.Next(words.Count)])));
        }
        // Numbers, dates and times in every language: the Asterisk prompts say a lot of them.
        for (int i = 0; i < 400; i++)
        {
            list.Add(rng.Next(3) switch
            {
                0 => rng.Next(10, 1_000_000).ToString(),
                1 => $"{rng.Next(1, 29)} {Months[lang][rng.Next(12)]} {rng.Next(1990, 2030)}",
                _ => $"{Days[lang][rng.Next(7)]} {rng.Next(1, 29)} {Months[lang][rng.Next(12)]}",
            });
        }
        return list.OrderBy(_ => rng.Next()).ToList();
    }
}
