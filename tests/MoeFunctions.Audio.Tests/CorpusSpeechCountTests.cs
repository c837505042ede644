using System.Text;
using Xunit.Abstractions;

namespace MoeFunctions.Audio.Tests;

/// <summary>
/// How many files of a corpus split have at least one speech window, the way `moe scan` cuts them (MediaDecoder,
/// Windower, SpeechDetector); a file with none comes back NotApplicable. Runs only when MOE_CORPUS names a corpus
/// manifest.csv (built by `moe corpus build`; the audio is never copied into the repository), e.g.
/// <c>MOE_CORPUS=/work/corpus/manifest.csv dotnet test tests/MoeFunctions.Audio.Tests --filter CorpusSpeechCountTests --logger "console;verbosity=detailed"</c>.
/// MOE_CORPUS_SPLIT picks the split (default test; "all" for every split); MOE_CORPUS_LIST, when set, names a file that
/// gets one line per file (path, speech windows, windows) to compare two detectors file by file. Uses no API newer than
/// the detector it measures, so the same file gives the "before" counts on an older commit.
/// </summary>
public sealed class CorpusSpeechCountTests(ITestOutputHelper output)
{
    [EnvironmentFact("MOE_CORPUS")]
    public void Files_with_a_speech_window_per_domain_and_class()
    {
        string manifest = Environment.GetEnvironmentVariable("MOE_CORPUS")!;
        string split = Environment.GetEnvironmentVariable("MOE_CORPUS_SPLIT") is { Length: > 0 } s ? s : "test";
        string root = Path.GetDirectoryName(Path.GetFullPath(manifest))!;

        var lines = File.ReadAllLines(manifest);
        var header = lines[0].Split(',');
        int path = Array.IndexOf(header, "path"), label = Array.IndexOf(header, "label"), domain = Array.IndexOf(header, "domain"),
            splitCol = Array.IndexOf(header, "split"), generator = Array.IndexOf(header, "generator");
        var counts = new SortedDictionary<string, (int Speech, int Files)>(StringComparer.Ordinal);
        var perFile = new StringBuilder();
        var misses = new SortedDictionary<string, int>(StringComparer.Ordinal); // windows of files without speech, by failed criteria
        foreach (var cols in lines.Skip(1).Select(l => l.Split(',')).Where(c => split == "all" || c[splitCol] == split))
        {
            // D4 (single words) per generator family: espeak-ng and flite fakes behave differently.
            string family = cols[domain] == "D4" ? "/" + cols[generator].Split(':')[0] : "";
            string key = $"{cols[domain]} {cols[label]}{family}";
            var cut = TestAudio.Windows(Path.Combine(root, cols[path]));
            var windows = cut.Select(w => w.IsSpeech).ToList();
            bool speech = windows.Contains(true);
            if (!speech)
                foreach (var w in cut) misses[$"{key}: {Failing(w)}"] = misses.GetValueOrDefault($"{key}: {Failing(w)}") + 1;
            perFile.Append(cols[path]).Append('\t').Append(windows.Count(w => w)).Append('\t').Append(windows.Count).Append('\n');
            var (sp, n) = counts.GetValueOrDefault(key);
            counts[key] = (sp + (speech ? 1 : 0), n + 1);
        }
        Assert.NotEmpty(counts);
        if (Environment.GetEnvironmentVariable("MOE_CORPUS_LIST") is { Length: > 0 } list) File.WriteAllText(list, perFile.ToString());

        var table = new StringBuilder($"files with a speech window, {split} split of {manifest}:\n");
        foreach (var (key, (sp, n)) in counts) table.AppendLine($"  {key,-24} {sp,4} / {n,4}");
        table.AppendLine("windows of the files without a speech window, by the criteria they fail:");
        foreach (var (what, n) in misses) table.AppendLine($"  {what,-60} {n,4}");
        output.WriteLine(table.ToString());
        // Every class of read or spoken words is mostly speech; espeak-ng's isolated vowels ("a", "laa") still miss.
        Assert.All(counts, c => Assert.True(c.Value.Speech >= (c.Key == "D4 spoof/espeak-ng" ? 0.65 : 0.9) * c.Value.Files,
            $"{c.Key}: only {c.Value.Speech} of {c.Value.Files} files have a speech window"));
    }

    /// <summary>The SpeechDetector criteria this window fails, from its features on the real (untiled) samples.</summary>
    private static string Failing(AudioWindow w)
    {
        int n = (int)Math.Min(w.Samples.Length, Math.Round((w.EndSeconds - w.StartSeconds) * MediaDecoder.TargetSampleRate));
        var f = SpeechDetector.Analyze(w.Samples.AsSpan(0, n));
        if (f.ActiveFraction == 0) return "no frame above the floor";
        var failed = new List<string>();
        if (f.MedianFlux < SpeechDetector.MinFlux) failed.Add("median flux");
        if (f.DynamicsDb < SpeechDetector.MinDynamicsDb) failed.Add("dynamics");
        if (f.MedianFlatness > SpeechDetector.MaxMedianFlatness) failed.Add("flatness");
        return failed.Count > 0 ? string.Join(" + ", failed) : "speech fraction";
    }
}
