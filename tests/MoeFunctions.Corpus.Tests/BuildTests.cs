using System.Security.Cryptography;

namespace MoeFunctions.Corpus.Tests;

/// <summary>Builds a tiny real corpus (a few items per domain) once, then checks it.</summary>
public sealed class SubsetCorpus : IDisposable
{
    public string Root { get; } = TestPaths.NewTempDir("build");
    public CorpusOptions Options { get; }
    public CorpusBuilder.Result Result { get; }

    public SubsetCorpus()
    {
        Options = new CorpusOptions { SharedData = TestPaths.SharedData, Output = Root, LimitPerDomain = 3, Seed = 5 };
        Result = new CorpusBuilder(Options, TextWriter.Null).Build();
    }

    public void Dispose() => Directory.Delete(Root, true);
}

public class BuildTests(SubsetCorpus corpus) : IClassFixture<SubsetCorpus>
{
    [Fact]
    public void Manifests_follow_the_schema_and_point_at_16k_mono_pcm_files()
    {
        Assert.Empty(corpus.Result.Failures);
        var all = Manifest.Read(Path.Combine(corpus.Root, "manifest.csv"));
        Assert.Equal(ManifestRow.Header, File.ReadLines(Path.Combine(corpus.Root, "manifest.csv")).First());
        Assert.Equal(corpus.Result.Rows.Count, all.Count);
        foreach (var d in ManifestRow.Domains)
        {
            var per = Manifest.Read(Path.Combine(corpus.Root, d, "manifest.csv"));
            Assert.Equal(all.Where(r => r.Domain == d), per);
            Assert.Contains(per, r => r.Label == "bonafide");
            Assert.Contains(per, r => r.Label == "spoof");
        }
        foreach (var r in all)
        {
            Assert.Contains(r.Label, ManifestRow.Labels);
            Assert.Contains(r.Split, ManifestRow.Splits);
            Assert.Contains(r.Domain, ManifestRow.Domains);
            Assert.False(string.IsNullOrEmpty(r.License));
            Assert.False(string.IsNullOrEmpty(r.Generator));
            Assert.False(Path.IsPathRooted(r.Path));
            var bytes = File.ReadAllBytes(Path.Combine(corpus.Root, r.Path));
            Assert.Equal(16000, BitConverter.ToInt32(bytes, 24));   // sample rate
            Assert.Equal(1, BitConverter.ToInt16(bytes, 22));       // mono
            Assert.Equal(16, BitConverter.ToInt16(bytes, 34));      // 16-bit
            Assert.InRange(Math.Abs(r.DurationS - (bytes.Length - 44) / 2 / 16000.0), 0, 0.001); // manifest keeps 3 decimals
        }
        Assert.Contains("| **D1** | **all** |", File.ReadAllText(Path.Combine(corpus.Root, "summary.md")));
    }

    [Fact]
    public void Loudness_is_levelled_alike_for_both_classes()
    {
        foreach (var r in corpus.Result.Rows)
        {
            var s = Signal.ReadWav(Path.Combine(corpus.Root, r.Path));
            double level = SignalOps.ActiveLevelDb(s.Samples, s.Rate);
            Assert.InRange(level, -40, -18); // target -26 +-3 dB, lower only where the peak ceiling bit
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_corpus_byte_for_byte_even_with_one_worker()
    {
        var other = TestPaths.NewTempDir("again");
        try
        {
            var again = new CorpusBuilder(corpus.Options with { Output = other, Parallelism = 1 }, TextWriter.Null).Build();
            Assert.Equal(corpus.Result.Rows, again.Rows);
            foreach (var r in again.Rows)
                Assert.Equal(Hash(Path.Combine(corpus.Root, r.Path)), Hash(Path.Combine(other, r.Path)));
        }
        finally { Directory.Delete(other, true); }
    }

    [Fact]
    public void A_rerun_skips_finished_files_and_redoes_a_missing_one()
    {
        var dir = TestPaths.NewTempDir("resume");
        try
        {
            var o = corpus.Options with { Output = dir, Domains = ["D4"], LimitPerDomain = 2 };
            var first = new CorpusBuilder(o, TextWriter.Null).Build();
            var stamps = first.Rows.ToDictionary(r => r.Path, r => File.GetLastWriteTimeUtc(Path.Combine(dir, r.Path)));
            // Forget one job: its state record goes, as after a crash before it finished.
            var victim = first.Rows[0];
            File.Delete(Path.Combine(dir, victim.Path));
            foreach (var f in Directory.GetFiles(Path.Combine(dir, ".state"), "*_" + Path.GetFileNameWithoutExtension(victim.Path) + ".csv"))
                File.Delete(f);
            Thread.Sleep(20);
            var log = new StringWriter();
            var second = new CorpusBuilder(o, log).Build();
            Assert.Equal(first.Rows, second.Rows);
            Assert.True(File.Exists(Path.Combine(dir, victim.Path)));
            foreach (var r in second.Rows.Where(r => r.Path != victim.Path))
                Assert.Equal(stamps[r.Path], File.GetLastWriteTimeUtc(Path.Combine(dir, r.Path)));
            Assert.Contains("jobs planned", log.ToString()); // progress output
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void The_audit_runs_on_the_built_manifest()
    {
        var report = ShortcutAudit.Run(Path.Combine(corpus.Root, "manifest.csv"), 5);
        Assert.Equal(ManifestRow.Domains, report.Domains.Select(d => d.Domain));
        Assert.All(report.Domains, d => Assert.InRange(d.Eer, 0, 1));
        Assert.Contains("| D4 |", report.ToMarkdown());
    }

    static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
