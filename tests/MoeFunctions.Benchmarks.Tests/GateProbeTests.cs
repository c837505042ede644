using MoeFunctions.Detection;
using MoeFunctions.TestSupport;
using MoeFunctions.Training.Data;

namespace MoeFunctions.Benchmarks.Tests;

/// <summary>
/// `moe-bench --gate-probe` on a made corpus: D1 wideband espeak-ng speech, D3 the same kind of speech through a telephone
/// band-pass, both 16 kHz. Band energies separate them, so the probe gate must route nearly every window to its
/// domain's expert (a broken feature, all zeros or all alike, could not).
/// </summary>
public sealed class GateProbeTests : IDisposable
{
    private readonly TempDir _dir = new("moe-gate-probe");
    public void Dispose() => _dir.Dispose();

    private static readonly string[] Texts =
    [
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Seven silver swans swam silently across the shining lake.",
        "Please call back before noon to confirm the delivery address.",
        "A gentle breeze moved the curtains in the quiet morning light.",
        "Numbers and letters were read aloud one after another.",
        "The train left the station a few minutes after midnight.",
    ];

    [Fact]
    public void Probe_gate_routes_band_limited_and_wideband_speech_to_their_own_experts()
    {
        var corpus = Directory.CreateDirectory(Path.Combine(_dir.Path, "corpus")).FullName;
        var rows = new List<string> { "path,label,domain,split,speaker,source,generator,license,duration_s" };
        for (int i = 0; i < Texts.Length; i++)
        {
            string split = i < 4 ? "train" : "dev", label = i % 2 == 0 ? "bonafide" : "spoof";
            foreach (var (domain, filter) in new[] { ("D1", "anull"), ("D3", "highpass=f=300,lowpass=f=3400,aresample=8000,aresample=16000") })
            {
                var dir = Directory.CreateDirectory(Path.Combine(corpus, domain)).FullName;
                var raw = MediaFiles.Speech(dir, Texts[i], i % 2 == 0 ? "en" : "en+f3", $"s{i}.raw.wav");
                MediaFiles.Convert(raw, Path.Combine(dir, $"s{i}.wav"), "-af", filter, "-ar", "16000", "-ac", "1");
                rows.Add($"{domain}/s{i}.wav,{label},{domain},{split},s{i},espeak-ng,espeak-ng,test,4.0");
            }
        }
        File.WriteAllLines(Path.Combine(corpus, "manifest.csv"), rows);
        // The untrained bundle's experts, renamed to the corpus's domain names (its own domains are descriptions).
        var bundleDir = Path.Combine(_dir.Path, "bundle");
        var untrained = UntrainedBundle.Write(bundleDir);
        BundleWriter.WriteManifest(bundleDir, untrained with { Experts = untrained.Experts.Select((x, i) => x with { Domain = $"D{i + 1}" }).ToList() });

        var report = GateProbe.Run(ModelBundle.Load(bundleDir), CorpusManifest.Load(corpus), clipsPerDomain: 10);

        Assert.Equal(4 * 2 * 3, report.TrainWindows); // 4 TRAIN clips per domain, middle window and 2 crops each
        Assert.Equal(4, report.DevFiles);
        Assert.Equal(["D1", "D3"], report.OwnExpertShare.Select(r => r.Domain));
        Assert.All(report.OwnExpertShare, r =>
        {
            Assert.True(r.Windows > 0);
            Assert.True(r.Probe >= 0.9, $"{r.Domain}: {r.Probe:P0} of DEV windows on its own expert (TRAIN accuracy {report.TrainAccuracy:P0})");
        });
        Assert.Contains(report.Rows, r => r.System == "probe gate (log-mel band statistics) top-2");
        Assert.Contains(report.Rows, r => r.System == "classic gate (raw window) dense");
        Assert.All(report.Rows, r => Assert.All(r.WholeFile.Values.Concat(r.MiddleWindow.Values), v => Assert.InRange(v, 0, 1)));
        Assert.Contains("| D3 |", GateProbe.Markdown(report));
    }
}
