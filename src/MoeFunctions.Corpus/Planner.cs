using System.Text.RegularExpressions;

namespace MoeFunctions.Corpus;

/// <summary>Turns the sources into the jobs of each domain, with every random choice drawn from the seed.</summary>
public sealed partial class Planner(CorpusOptions o)
{
    static readonly string[] D1Vocoders = ["griffin-lim", "lpc"];
    static readonly string[] Codec2Modes = ["1300", "1600", "2400"];

    public List<CorpusJob> PlanAll()
    {
        var shared = SharedClip.Load(o.SharedData);
        var (d1Speakers, d2Speakers) = SplitTrainClean(shared);
        var jobs = new List<CorpusJob>();
        foreach (var d in o.Domains)
        {
            var domainJobs = d switch
            {
                "D1" => PlanD1(shared, d1Speakers),
                "D2" => PlanD2(shared, d2Speakers),
                "D3" => PlanD3(),
                "D4" => PlanD4(shared),
                _ => throw new ArgumentException($"unknown domain {d}"),
            };
            var groups = domainJobs.GroupBy(j => j.Group).ToDictionary(g => g.Key, g => g.Sum(j => j.ApproxSeconds));
            var strata = domainJobs.Where(j => j.Stratum is not null).GroupBy(j => j.Group)
                .ToDictionary(g => g.Key, g => g.Select(j => j.Stratum!).Distinct().Single());
            var splits = SplitAssigner.Assign(groups, o.Seed, d, strata.Count == 0 ? null : g => strata[g]);
            foreach (var j in domainJobs) j.Split = splits[j.Group];
            jobs.AddRange(domainJobs);
        }
        return jobs;
    }

    static string LsSpeaker(SharedClip c) => System.IO.Path.GetFileName(c.ClipPath).Split('-')[0];

    /// <summary>
    /// D2's real side is thin, so it borrows whole train-clean-100 speakers (seeded order) until its raw real
    /// audio reaches the target; those speakers are then absent from D1.
    /// </summary>
    (HashSet<string> D1, HashSet<string> D2) SplitTrainClean(List<SharedClip> shared)
    {
        var tc = shared.Where(c => c.ClipPath.StartsWith("librispeech/train-clean-100/")).ToList();
        var bySpeaker = tc.GroupBy(LsSpeaker).ToDictionary(g => g.Key, g => g.Sum(c => c.DurationS));
        double d2Real = shared.Where(c => c.Label == "bonafide" && (c.ClipPath.StartsWith("librispeech/test-other/")
            || c.Source is "mobilespeech" or "vstts")).Sum(c => c.DurationS);
        var d1 = new HashSet<string>(); var d2 = new HashSet<string>();
        foreach (var s in bySpeaker.Keys.OrderBy(s => s, StringComparer.Ordinal).OrderBy(s => StableHash.Of($"{o.Seed}/tc100/{s}")))
        {
            if (d2Real < o.D2RealTargetMinutes * 60) { d2.Add(s); d2Real += bySpeaker[s]; }
            else d1.Add(s);
        }
        return (d1, d2);
    }

    IEnumerable<T> Limit<T>(IEnumerable<T> items, string salt, Func<T, string> key) =>
        o.LimitPerDomain is int n
            ? items.OrderBy(i => StableHash.Of($"{o.Seed}/{salt}/{key(i)}")).Take(n).OrderBy(key, StringComparer.Ordinal)
            : items;

    Signal DecodeShared(SharedClip c) => Signal.Decode(System.IO.Path.Combine(o.SharedData, c.ClipPath));

    // ---------------- D1: read speech vs classical vocoders ----------------
    List<CorpusJob> PlanD1(List<SharedClip> shared, HashSet<string> speakers)
    {
        var clips = shared.Where(c => (c.ClipPath.StartsWith("librispeech/train-clean-100/") && speakers.Contains(LsSpeaker(c)))
                                      || c.Source == "ljspeech").ToList();
        var jobs = new List<CorpusJob>();
        foreach (var c in Limit(clips, "D1", c => c.ClipPath))
        {
            string stem = System.IO.Path.GetFileNameWithoutExtension(c.ClipPath);
            string speaker = c.Source == "ljspeech" ? "LJ" : LsSpeaker(c);
            var urng = StableHash.Rng(o.Seed, "D1/utt/" + c.ClipPath);
            // Band is a property of the utterance, shared by its real and fake versions (codec2 is 8 kHz only).
            bool narrow = urng.NextDouble() < 0.4;
            string vocoder = narrow
                ? (urng.NextDouble() < 0.5 ? "codec2-" + Codec2Modes[urng.Next(Codec2Modes.Length)] : D1Vocoders[urng.Next(2)])
                : D1Vocoders[urng.Next(2)];
            Func<Random, ChannelPath> path = r => DrawGeneral(r, narrow);
            string src = c.Source == "ljspeech" ? "ljspeech" : "librispeech";
            jobs.Add(new CorpusJob
            {
                Id = $"D1/bonafide/{stem}", Domain = "D1", Label = "bonafide", Speaker = speaker, Source = src,
                Generator = "human", License = c.License, Group = speaker, ApproxSeconds = c.DurationS,
                Produce = _ => DecodeShared(c), DrawPath = path,
            });
            jobs.Add(new CorpusJob
            {
                Id = $"D1/spoof/{stem}-{vocoder}", Domain = "D1", Label = "spoof", Speaker = speaker, Source = src,
                Generator = vocoder, License = c.License, Group = speaker, ApproxSeconds = c.DurationS,
                Produce = ctx =>
                {
                    var real = SignalOps.TrimSilence(DecodeShared(c));
                    return vocoder switch
                    {
                        "griffin-lim" => Vocoders.GriffinLim(real, ctx.Rng, 16),
                        "lpc" => Vocoders.Lpc(real, ctx.Rng),
                        _ => Codec2.Resynthesise(real, vocoder["codec2-".Length..]),
                    };
                },
                DrawPath = path,
            });
        }
        return jobs;
    }

    /// <summary>Random codec augmentation for D1/D2: none, MP3 or Opus at a bit rate fitting the band.</summary>
    static ChannelPath DrawGeneral(Random r, bool narrow, double pNone = 0.5)
    {
        double u = r.NextDouble();
        if (u < pNone) return new ChannelPath(narrow, false, Codec.None, 0);
        bool mp3 = u < pNone + (1 - pNone) / 2;
        int[] rates = (mp3, narrow) switch
        {
            (true, false) => [48, 64, 96, 128],
            (true, true) => [16, 24, 32],
            (false, false) => [16, 24, 32, 48],
            (false, true) => [8, 12, 16],
        };
        return new ChannelPath(narrow, false, mp3 ? Codec.Mp3 : Codec.Opus, rates[r.Next(rates.Length)]);
    }

    // ---------------- D2: modern neural TTS and cloning ----------------
    List<CorpusJob> PlanD2(List<SharedClip> shared, HashSet<string> speakers)
    {
        var clips = shared.Where(c =>
            (c.Source is "mobilespeech" or "tortoise" or "vstts" && !Voices.HeldOutSharedSystems.Contains(c.System))
            || c.ClipPath.StartsWith("librispeech/test-other/")
            || (c.ClipPath.StartsWith("librispeech/train-clean-100/") && speakers.Contains(LsSpeaker(c)))).ToList();
        var real = Limit(clips.Where(c => c.Label == "bonafide"), "D2r", c => c.ClipPath);
        double kept = 0;
        var fakePool = clips.Where(c => c.Label == "spoof").OrderBy(c => c.ClipPath, StringComparer.Ordinal)
            .OrderBy(c => StableHash.Of($"{o.Seed}/D2pool/{c.ClipPath}"))
            .TakeWhile(c => (kept += c.DurationS) <= o.D2FakeMinutes * 60 + c.DurationS).ToList();
        var fake = Limit(fakePool.OrderBy(c => c.ClipPath, StringComparer.Ordinal), "D2f", c => c.ClipPath);
        return real.Concat(fake).Select(c =>
        {
            string speaker = c.Source == "librispeech" ? LsSpeaker(c) : c.Speaker;
            // Without a speaker, the source recording (a demo-page folder) is the unit that must not straddle splits.
            string group = c.Source switch
            {
                "librispeech" => "ls:" + speaker,
                "mobilespeech" => "ms:" + c.ClipPath.Split('/')[1],
                // VS-TTS's emotion folder compares three systems row by row (instruct-N, style-N, vstts-N): a row is one source.
                "vstts" when c.ClipPath.StartsWith("vstts/emotion/") => "vs:emotion/" + System.IO.Path.GetFileNameWithoutExtension(c.ClipPath).Split('-')[^1],
                "vstts" => "vs:" + string.Join('/', c.ClipPath.Split('/')[1..^1]),
                _ => "tt:" + (speaker.Length > 0 ? speaker : System.IO.Path.GetDirectoryName(c.ClipPath)),
            };
            string id = c.ClipPath[..c.ClipPath.LastIndexOf('.')].Replace('/', '_');
            return new CorpusJob
            {
                Id = $"D2/{c.Label}/{id}", Domain = "D2", Label = c.Label, Speaker = speaker, Source = c.Source,
                Generator = c.Label == "spoof" ? c.System : "human", License = c.License, Group = group,
                ApproxSeconds = c.DurationS, Segment = true,
                // Stratified so dev and test each hold a tenth of every source: test-other and lent train-clean
                // speakers, each demo page (MobileSpeech folders carry the cloning systems) and Tortoise's voices.
                Stratum = c.Source == "librispeech" ? (c.ClipPath.StartsWith("librispeech/test-other/") ? "ls-test-other" : "ls-train-clean") : c.Source,
                Produce = _ => DecodeShared(c),
                // Every D2 clip goes through a lossy codec, because a third of the fakes arrive as MP3.
                DrawPath = r => DrawGeneral(r, r.NextDouble() < 0.15, pNone: 0),
            };
        }).ToList();
    }

    // ---------------- D3: telephone prompts vs older TTS ----------------
    static readonly Dictionary<string, (string Dir, string Ext, string Lang, string License)> AsteriskVoices = new()
    {
        ["Allison-en"] = ("en_US_f_Allison", ".wav", "en", "CC-BY-SA-3.0"),
        ["Allison-es"] = ("es_MX_f_Allison", ".wav", "es", "CC-BY-SA-3.0"),
        ["June-fr"] = ("fr_CA_f_June", ".wav", "fr", "CC-BY-SA-3.0"),
        ["Carlo-it"] = ("it_IT_m_Carlo", ".wav", "it", "CC-BY-SA-3.0"),
        ["Menardi-it"] = ("it_IT_f_Menardi", ".wav", "it", "CC-BY-SA-3.0-IT"),
    };

    static ChannelPath DrawTelephone(Random r)
    {
        double u = r.NextDouble();
        var codec = u < 0.35 ? Codec.None : u < 0.65 ? Codec.MuLaw : u < 0.9 ? Codec.ALaw : Codec.Gsm;
        return new ChannelPath(true, true, codec, 0);
    }

    List<CorpusJob> PlanD3()
    {
        var transcript = PromptTexts.LoadEnglish(System.IO.Path.Combine(o.SharedData, "transcripts", "asterisk-core-sounds-en.txt"));
        var fillers = new Dictionary<string, Queue<string>>();
        var jobs = new List<CorpusJob>();
        var planRng = StableHash.Rng(o.Seed, "D3/plan");
        foreach (var (voiceName, (dir, ext, lang, license)) in AsteriskVoices.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            string root = System.IO.Path.Combine(o.AsteriskSounds, dir);
            if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root} missing: run scripts/build-corpus.sh (it installs the asterisk prompt packages)");
            var prompts = Directory.EnumerateFiles(root, "*" + ext, SearchOption.AllDirectories)
                .Select(f => System.IO.Path.GetRelativePath(root, f)[..^ext.Length].Replace('\\', '/'))
                .Where(n => PromptTexts.IsSpeech(n, transcript))
                .OrderBy(n => n, StringComparer.Ordinal).ToList();
            // Prompts whose text is known first (their fakes say the same words), then the rest, seeded order.
            var chosen = prompts
                .OrderBy(n => PromptTexts.Known(n, lang, transcript) is null ? 1 : 0)
                .ThenBy(n => StableHash.Of($"{o.Seed}/D3/{voiceName}/{n}"))
                .Take(Math.Min(o.D3MaxPerVoice, o.LimitPerDomain ?? int.MaxValue)).OrderBy(n => n, StringComparer.Ordinal);
            var pool = Voices.D3(lang);
            foreach (var name in chosen)
            {
                string file = System.IO.Path.Combine(root, name + ext);
                double approx = new FileInfo(file).Length / 16000.0; // 8 kHz 16-bit WAV
                string group = PromptTexts.GroupKey(name, transcript);
                string realId = $"D3/bonafide/{lang}-{voiceName}-{name.Replace('/', '_')}";
                jobs.Add(new CorpusJob
                {
                    Id = realId, Domain = "D3", Label = "bonafide", Speaker = voiceName, Source = "asterisk-" + dir,
                    Generator = "human", License = license, Group = group, ApproxSeconds = approx,
                    Produce = _ => Signal.Decode(file, 16000),
                    DrawPath = DrawTelephone,
                });
                var voice = Voices.Pick(pool, planRng);
                string? known = PromptTexts.Known(name, lang, transcript);
                string text = known ?? NextFiller(fillers, lang, approx, planRng);
                string textLicense = known is null ? PromptTexts.FillerLicense(lang) : "CC-BY-SA-3.0";
                jobs.Add(new CorpusJob
                {
                    Id = $"D3/spoof/{lang}-{voiceName}-{name.Replace('/', '_')}-{voice.Voice.Replace('+', '_')}",
                    Domain = "D3", Label = "spoof", Speaker = voice.Id, Source = voice.Engine, Generator = voice.Id,
                    License = $"{EngineLicense(voice)};text:{textLicense}", Group = group, ApproxSeconds = approx,
                    PairId = realId,
                    Produce = ctx => Voices.SpeakMatched(voice, text, ctx.TargetSeconds * (0.9 + 0.2 * ctx.Rng.NextDouble())),
                    DrawPath = DrawTelephone,
                });
            }
        }
        return jobs;
    }

    string NextFiller(Dictionary<string, Queue<string>> cache, string lang, double approxS, Random rng)
    {
        if (!cache.TryGetValue(lang, out var q))
            cache[lang] = q = new Queue<string>(PromptTexts.Fillers(lang, o, rng));
        // Take the first of a few candidates whose length suits the prompt (about 14 characters a second).
        int want = (int)Math.Clamp(approxS * 14, 8, 200);
        var cands = Enumerable.Range(0, Math.Min(6, q.Count)).Select(_ => q.Dequeue()).ToList();
        if (cands.Count == 0) return rng.Next(10, 99999).ToString();
        var best = cands.OrderBy(c => Math.Abs(c.Length - want)).First();
        foreach (var c in cands) if (!ReferenceEquals(c, best)) q.Enqueue(c);
        return best;
    }

    static string EngineLicense(TtsVoice v) => v.Engine switch
    {
        "espeak-ng" => "espeak-ng:GPL-3.0-or-later",
        "flite" => "flite:BSD-style(CMU)",
        "festival" => v.Voice switch
        {
            "cmu_us_slt_arctic_hts" => "festvox-us-slt-hts:BSD-3-Clause",
            "lp_diphone" or "pc_diphone" => "festvox-ita:GPL-2.0-or-later",
            _ => "festvox-kallpc16k:MIT-style",
        },
        _ => "unknown",
    };

    // ---------------- D4: short words and digits ----------------
    static readonly Dictionary<string, string> KlettresEspeak = new()
    {
        ["ar"] = "ar", ["cs"] = "cs", ["da"] = "da", ["de"] = "de", ["en"] = "en-us", ["en_GB"] = "en-gb",
        ["es"] = "es", ["fr"] = "fr-fr", ["he"] = "he", ["hu"] = "hu", ["it"] = "it", ["lt"] = "lt",
        ["ml"] = "ml", ["nb"] = "nb", ["nl"] = "nl", ["pt_BR"] = "pt-br", ["ru"] = "ru", ["tn"] = "tn", ["uk"] = "uk",
    };
    static readonly string[] DigitWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    static ChannelPath DrawNarrow(Random r)
    {
        double u = r.NextDouble();
        if (u < 0.6) return new ChannelPath(true, false, Codec.None, 0);
        if (u < 0.8) return new ChannelPath(true, false, Codec.Mp3, new[] { 16, 24, 32 }[r.Next(3)]);
        return new ChannelPath(true, false, Codec.Opus, new[] { 8, 12, 16 }[r.Next(3)]);
    }

    [GeneratedRegex("<sound\\s+name=\"([^\"]+)\"\\s+file=\"([^\"]+)\"")]
    private static partial Regex SoundRegex();

    List<CorpusJob> PlanD4(List<SharedClip> shared)
    {
        // (id stem, file, text, espeak language, speaker, source, licence, approx seconds)
        var items = new List<(string Stem, string File, string Text, string Lang, string Speaker, string Source, string License, double Approx)>();
        foreach (var c in shared.Where(c => c.Source == "fsdd" && StableHash.Of($"{o.Seed}/fsdd/{c.ClipPath}") % 1000 < o.FsddFraction * 1000))
        {
            string stem = System.IO.Path.GetFileNameWithoutExtension(c.ClipPath); // digit_speaker_n
            var parts = stem.Split('_');
            items.Add(("fsdd-" + stem, System.IO.Path.Combine(o.SharedData, c.ClipPath), DigitWords[int.Parse(parts[0])], "en-us",
                parts[1], "fsdd", c.License, c.DurationS));
        }
        foreach (var (code, espeak) in KlettresEspeak.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            string xml = System.IO.Path.Combine(o.Klettres, code, "sounds.xml");
            if (!File.Exists(xml)) throw new FileNotFoundException($"{xml} missing: run scripts/build-corpus.sh (it installs klettres-data)");
            foreach (Match m in SoundRegex().Matches(File.ReadAllText(xml)))
            {
                string file = System.IO.Path.Combine(o.Klettres, m.Groups[2].Value);
                if (!File.Exists(file)) continue;
                string text = System.Net.WebUtility.HtmlDecode(m.Groups[1].Value);
                string stem = $"klettres-{code}-{System.IO.Path.GetFileNameWithoutExtension(file)}-{StableHash.Of(m.Groups[2].Value) % 100000}";
                items.Add((stem, file, text, espeak, "klettres-" + code, "klettres-data", "GPL-2.0-or-later", 1.4));
            }
        }
        var jobs = new List<CorpusJob>();
        var planRng = StableHash.Rng(o.Seed, "D4/plan");
        // klettres lists a few recordings under two names: each recording is used once, under its first name.
        items = items.GroupBy(i => i.File).Select(g => g.First()).ToList();
        foreach (var it in Limit(items, "D4", i => i.Stem))
        {
            // Split by text: the same word never appears in both train and test, whoever speaks it.
            string group = $"{it.Lang[..2]}:{it.Text.ToLowerInvariant()}";
            string realId = $"D4/bonafide/{it.Stem}";
            jobs.Add(new CorpusJob
            {
                Id = realId, Domain = "D4", Label = "bonafide", Speaker = it.Speaker, Source = it.Source, Generator = "human",
                License = it.License, Group = group, ApproxSeconds = it.Approx,
                Produce = _ => Signal.Decode(it.File), DrawPath = DrawNarrow,
            });
            var pool = Voices.D4(it.Lang);
            var voices = new List<TtsVoice> { Voices.Pick(pool, planRng) };
            // klettres speakers draw letters out longer than any synthesiser will (even at its slowest rate), so half
            // of those items get a second fake voice to keep the spoof minutes near the bona fide ones.
            if (it.Source == "klettres-data" && planRng.NextDouble() < 0.5)
                voices.Add(Voices.Pick(pool.Where(p => p.Voice != voices[0]).ToList(), planRng));
            foreach (var voice in voices)
                jobs.Add(new CorpusJob
                {
                    Id = $"D4/spoof/{it.Stem}-{voice.Voice.Replace('+', '_')}", Domain = "D4", Label = "spoof", Speaker = voice.Id,
                    Source = voice.Engine, Generator = voice.Id, License = EngineLicense(voice) + ";text:" + it.License,
                    Group = group, ApproxSeconds = it.Approx, PairId = realId,
                    Produce = ctx => Voices.SpeakMatched(voice, it.Text, ctx.TargetSeconds * (0.9 + 0.2 * ctx.Rng.NextDouble())),
                    DrawPath = DrawNarrow,
                });
        }
        return jobs;
    }
}
