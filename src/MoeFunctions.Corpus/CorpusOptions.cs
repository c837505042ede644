namespace MoeFunctions.Corpus;

/// <summary>Where the inputs are and what to build. Defaults match the Debian packages installed by scripts/build-corpus.sh.</summary>
public sealed record CorpusOptions
{
    public string SharedData { get; init; } = "/work/shared/data";
    public string Output { get; init; } = "corpus";
    public int Seed { get; init; } = 1234;
    public IReadOnlyList<string> Domains { get; init; } = ManifestRow.Domains;
    /// <summary>Cap on bona fide source items per domain (null = all); tests build a small subset with it.</summary>
    public int? LimitPerDomain { get; init; }
    /// <summary>Asterisk prompts taken per voice directory: D3 has far more than its 25-minute target.</summary>
    public int D3MaxPerVoice { get; init; } = 170;
    /// <summary>Minutes of D2 fakes kept (seeded sample of the ~78 in shared/data), to keep the build short.</summary>
    public double D2FakeMinutes { get; init; } = 42;
    /// <summary>Share of the 3,000 FSDD clips used in D4 (klettres-data adds the rest of its 40 minutes).</summary>
    public double FsddFraction { get; init; } = 0.62;
    /// <summary>Minutes of raw LibriSpeech real speech D2 should reach by borrowing train-clean-100 speakers from D1.</summary>
    public double D2RealTargetMinutes { get; init; } = 29;
    public int Parallelism { get; init; } = 2;
    public string AsteriskSounds { get; init; } = "/usr/share/asterisk/sounds";
    public string Klettres { get; init; } = "/usr/share/klettres";
    public string Fortunes { get; init; } = "/usr/share/games/fortunes";
    public string FrenchWords { get; init; } = "/usr/share/dict/french";
}
