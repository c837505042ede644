using MoeFunctions.TestSupport;

namespace MoeFunctions.Benchmarks.Tests;

/// <summary>One `--small` run for all tests of the class: a two-file dev corpus made with espeak-ng, media made by the benchmark itself.</summary>
public sealed class SmallRunFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("moe-bench-test-").FullName;
    public BenchReport Report { get; }
    public string Log { get; }
    public string Markdown { get; }

    public SmallRunFixture()
    {
        var corpus = Directory.CreateDirectory(Path.Combine(Root, "corpus")).FullName;
        Directory.CreateDirectory(Path.Combine(corpus, "D1"));
        MediaFiles.Speech(Path.Combine(corpus, "D1"), "The quick brown fox jumps over the lazy dog near the river bank.", "en", "real.wav");
        // The "spoof" is a telephone-band, resampled rendition: any second class will do for an EER over two files.
        var spoofSource = MediaFiles.Speech(Path.Combine(corpus, "D1"), "Seven silver swans swam silently across the shining lake.", "en+f3", "fake.src.wav");
        MediaFiles.Convert(spoofSource, Path.Combine(corpus, "D1", "fake.flac"), "-af", "highpass=f=300,lowpass=f=3400", "-ar", "8000");
        File.WriteAllLines(Path.Combine(corpus, "manifest.csv"),
        [
            "path,label,domain,split,speaker,source,generator,license,duration_s",
            "D1/real.wav,bonafide,D1,dev,s1,espeak-ng,human,test,4.0",
            "D1/fake.flac,spoof,D1,dev,s2,espeak-ng,espeak-ng,test,4.0",
            "D1/real.wav,bonafide,D1,train,s1,espeak-ng,human,test,4.0",
        ]);

        var log = new StringWriter();
        var options = new BenchOptions
        {
            Small = true,
            CorpusDirectory = corpus,
            WorkDirectory = Path.Combine(Root, "work"),
            CommandLine = "moe-bench --small (test)",
        };
        Report = BenchmarkRunner.Run(options, log);
        Log = log.ToString();
        Markdown = MarkdownReport.Render(Report);
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
