namespace MoeFunctions.Corpus;

/// <summary>
/// The synthesiser voices each domain draws its fakes from, and those kept out of every domain so that
/// generalisation to unseen generators can be tested later.
/// </summary>
public static class Voices
{
    /// <summary>espeak-ng variants used in the corpus.</summary>
    public static readonly string[] EspeakVariants = ["m1", "m2", "m3", "m4", "f1", "f2", "f3", "f4", "klatt2"];

    /// <summary>Kept out of all four domains (recorded in docs/data.md and summary.md).</summary>
    public static readonly string[] HeldOut =
    [
        "espeak-ng variants +m6 +m7 +f5 +whisper +croak +klatt4 (any language)",
        "festival ked_diphone (festvox-kdlpc16k)",
        "flite voices awb and slt",
        "codec2 modes 3200, 700C and 450",
        "SPTK mel-cepstral (MLSA) resynthesis (sptk is installed, not used)",
        "shared/data tortoise-repo comparison clips: naturalspeech and tacotron2 (6 clips)",
    ];

    /// <summary>Generators of shared/data left out of D2 (see <see cref="HeldOut"/>).</summary>
    public static readonly HashSet<string> HeldOutSharedSystems = ["naturalspeech", "tacotron2"];

    static IEnumerable<TtsVoice> Espeak(string lang, params string[] bases) =>
        bases.SelectMany(b => EspeakVariants.Select(v => new TtsVoice("espeak-ng", $"{b}+{v}", lang)));

    /// <summary>D3 pools per prompt language: (voice, weight).</summary>
    public static IReadOnlyList<(TtsVoice Voice, double Weight)> D3(string lang) => lang switch
    {
        "en" => Weighted(Espeak("en", "en-us", "en-gb"), 0.5,
            [new("festival", "kal_diphone", "en"), new("festival", "cmu_us_slt_arctic_hts", "en")], 0.25,
            [new("flite", "kal16", "en"), new("flite", "rms", "en"), new("flite", "kal", "en")], 0.25),
        "it" => Weighted(Espeak("it", "it"), 0.6,
            [new("festival", "lp_diphone", "it"), new("festival", "pc_diphone", "it")], 0.4),
        "fr" => Weighted(Espeak("fr", "fr-fr", "fr-be", "fr-ch"), 1.0),
        "es" => Weighted(Espeak("es", "es", "es-419"), 1.0),
        _ => throw new ArgumentException($"no D3 voices for {lang}"),
    };

    /// <summary>D4 pools: espeak-ng in the item's language, plus flite for English.</summary>
    public static IReadOnlyList<(TtsVoice Voice, double Weight)> D4(string espeakLang) =>
        espeakLang.StartsWith("en")
            ? Weighted(Espeak("en", espeakLang == "en-gb" ? ["en-gb", "en-gb-x-rp"] : ["en-us", "en-gb"]), 0.6,
                [new("flite", "kal16", "en"), new("flite", "rms", "en"), new("flite", "kal", "en")], 0.4)
            : Weighted(Espeak(espeakLang, espeakLang), 1.0);

    static List<(TtsVoice, double)> Weighted(IEnumerable<TtsVoice> a, double wa, IEnumerable<TtsVoice>? b = null, double wb = 0,
        IEnumerable<TtsVoice>? c = null, double wc = 0)
    {
        var list = new List<(TtsVoice, double)>();
        void Add(IEnumerable<TtsVoice>? vs, double w) { if (vs is null) return; var arr = vs.ToArray(); foreach (var v in arr) list.Add((v, w / arr.Length)); }
        Add(a, wa); Add(b, wb); Add(c, wc);
        return list;
    }

    public static TtsVoice Pick(IReadOnlyList<(TtsVoice Voice, double Weight)> pool, Random rng)
    {
        double r = rng.NextDouble() * pool.Sum(p => p.Weight);
        foreach (var (v, w) in pool) { r -= w; if (r <= 0) return v; }
        return pool[^1].Voice;
    }

    /// <summary>
    /// Speaks text at a rate chosen so the trimmed result lasts about <paramref name="targetS"/> seconds:
    /// one pass at the default rate, then (if needed) one at the corrected rate. This keeps clip duration from
    /// telling real and fake apart.
    /// </summary>
    public static Signal SpeakMatched(TtsVoice voice, string text, double? targetS)
    {
        var first = voice.Speak(text);
        if (targetS is not double target) return first;
        double d0 = SignalOps.TrimSilence(first).DurationS;
        if (d0 < 0.05) return first;
        double stretch = Math.Clamp(target / d0, 0.5, 2.5);
        return Math.Abs(stretch - 1) < 0.12 ? first : voice.Speak(text, stretch); // within the ±10 % jitter anyway
    }
}
