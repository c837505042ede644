using System.Diagnostics;
using System.Globalization;
using MoeFunctions.Training.Data;

namespace MoeFunctions.Training.Tests;

/// <summary>
/// A tiny corpus made by the tests: espeak-ng speech as "bona fide" and the same speech pitch-shifted and low-passed
/// with sox as "spoof" (an easy, learnable difference), two domains (even/odd texts), 16 kHz mono WAV with a manifest.csv in the corpus format.
/// </summary>
public sealed class TinyCorpus : IDisposable
{
    private static readonly string[] Texts =
    [
        "the quick brown fox jumps over the lazy dog", "please call stella and ask her to bring these things",
        "a mixture of experts routes every window", "seven silver swans swam silently seaward",
        "she sells sea shells by the sea shore", "how much wood would a woodchuck chuck",
        "the rain in spain stays mainly in the plain", "we scan every window of the file",
    ];
    private static readonly string[] Voices = ["en-us", "en-gb", "en-gb-scotland"];

    public string Root { get; } = Directory.CreateTempSubdirectory("moe-tiny-corpus-").FullName;
    public CorpusManifest Manifest { get; }

    public TinyCorpus()
    {
        var rows = new List<string> { "path,label,domain,split,speaker,source,generator,license,duration_s" };
        int k = 0;
        foreach (var voice in Voices)
            for (int t = 0; t < Texts.Length; t++, k++)
            {
                string split = t >= 6 ? "dev" : "train"; // texts 6 (D1) and 7 (D2)
                string real = $"real/{voice}-{t}.wav", fake = $"fake/{voice}-{t}.wav";
                Directory.CreateDirectory(Path.Combine(Root, "real"));
                Directory.CreateDirectory(Path.Combine(Root, "fake"));
                var raw = Path.Combine(Root, $"raw-{k}.wav");
                Run("espeak-ng", $"-v {voice} -s {140 + 10 * (t % 4)} -w {raw} \"{Texts[t]}\"");
                Run("sox", $"-R {raw} -r 16000 -c 1 -b 16 {Path.Combine(Root, real)}");
                Run("sox", $"-R {raw} -r 16000 -c 1 -b 16 {Path.Combine(Root, fake)} pitch 250 lowpass 2500 gain -3");
                File.Delete(raw);
                foreach (var (path, label) in new[] { (real, "bonafide"), (fake, "spoof") })
                {
                    var seconds = ClipStore.ReadWav(Path.Combine(Root, path)).Length / 16000.0;
                    rows.Add(string.Join(',', path, label, t % 2 == 0 ? "D1" : "D2", split, voice, label == "spoof" ? "sox" : "espeak-ng",
                        label == "spoof" ? "sox-pitch-lowpass" : "human", "GPL-3.0", seconds.ToString("F3", CultureInfo.InvariantCulture)));
                }
            }
        File.WriteAllLines(Path.Combine(Root, "manifest.csv"), rows);
        Manifest = CorpusManifest.Load(Root);
    }

    private static void Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed: {err}");
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Runs alone, after the other collections: its tests compare training runs byte for byte, and libtorch's random
/// generator and thread count are process-wide, so a test seeding or building a network in parallel changes the bytes
/// (ExpertWeightAverageTests failed that way beside WeightAverageTests).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TinyCorpusCollection : ICollectionFixture<TinyCorpus>
{
    public const string Name = "tiny corpus";
}
