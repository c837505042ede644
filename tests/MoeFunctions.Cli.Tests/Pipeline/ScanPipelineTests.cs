using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Pipeline;
using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests.Pipeline;

/// <summary>
/// The in-process pipeline on real files with real ONNX bundles whose outputs are known (TestBundles): expert 0 says
/// P(spoof) = 0.9, expert 1 says 0.2, and the gate prefers expert 0 (bias 4 vs 0, weight 0.982).
/// </summary>
public sealed class ScanPipelineTests(ScanMedia media) : IClassFixture<ScanMedia>, IDisposable
{
    private readonly ScratchDir _dir = new("moe-scan-pipeline");
    private static readonly float[] PreferFirst = [4f, 0f];

    public void Dispose() => _dir.Dispose();

    private (MoeScorer Scorer, ScanPipeline Pipeline) Pipeline(double[] spoof, bool trained = true, ScanPipelineOptions? options = null,
                                                                ScorerOptions? scorerOptions = null, float[]? gateBias = null)
    {
        var bundle = TestBundles.Write(Path.Combine(_dir.Path, $"bundle-{Guid.NewGuid():N}"), spoof, gateBias ?? PreferFirst, trained);
        scorerOptions ??= new ScorerOptions();
        var scorer = new MoeScorer(bundle, scorerOptions);
        return (scorer, new ScanPipeline(scorer, options));
    }

    private static ScanInput[] Inputs(params string[] paths) => paths.Select(ScanInput.ForLocalFile).ToArray();

    [Fact]
    public async Task MixedFilesGiveOneResultEachInInputOrder()
    {
        var (scorer, pipeline) = Pipeline([0.9, 0.2], options: new ScanPipelineOptions { BatchSize = 8 });
        using var owned = scorer;
        var inputs = Inputs(media.All);

        var results = await pipeline.ScanAllAsync(inputs);

        Assert.Equal(inputs.Length, results.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(inputs[i].ScanId, results[i].ScanId);
            Assert.Equal(media.All[i], results[i].Source.Path);
            Assert.Equal(new FileInfo(media.All[i]).Length, results[i].Source.Bytes);
            Assert.Equal("test-constant", results[i].Model.Name);
        }

        foreach (var (r, format) in new[] { (results[0], "wav"), (results[1], "mp3"), (results[2], "ogg-opus"), (results[3], "wav") })
        {
            Assert.Equal(Verdict.Fake, r.Verdict);
            Assert.Null(r.Reason);
            Assert.Equal(0.9, r.SpoofProbability!.Value, 4);
            Assert.Equal(format, r.Media!.Format);
            Assert.True(r.WindowsScored >= 1);
            Assert.Equal(r.Windows.Count, r.WindowsScored + r.WindowsNotApplicable);
            Assert.Equal(0.982, r.ExpertWeights[TestBundles.ExpertName(0)], 3);
            Assert.Equal(0.018, r.ExpertWeights[TestBundles.ExpertName(1)], 3);
            Assert.NotEmpty(r.Timeline);
            foreach (var w in r.Windows.Where(w => w.Speech))
            {
                Assert.Equal(0.9, w.Score!.Value, 4);
                Assert.Equal(2, w.Gate!.Length);
                Assert.Equal(0.1f, w.Experts![0]!.Value, 4); // expert 0's bona-fide probability
                Assert.Null(w.Experts[1]);                    // top-1: expert 1 never ran
            }
        }

        var longResult = results[3];
        Assert.Equal(10.0, longResult.Media!.DurationSeconds, 1);
        Assert.True(longResult.Windows.Count >= 3, $"10 s at a 3 s hop gives at least 3 windows, got {longResult.Windows.Count}");

        var silence = results[4];
        Assert.Equal(Verdict.NotApplicable, silence.Verdict);
        Assert.Null(silence.SpoofProbability);
        Assert.Contains("no speech", silence.Reason);
        Assert.Equal(0, silence.WindowsScored);

        var failed = results[5];
        Assert.Equal(Verdict.Failed, failed.Verdict);
        Assert.False(string.IsNullOrWhiteSpace(failed.Reason));
        Assert.Null(failed.SpoofProbability);
        Assert.Empty(failed.Windows);
    }

    [Fact]
    public async Task ALowScoringExpertGivesReal()
    {
        var (scorer, pipeline) = Pipeline([0.05, 0.9]);
        using var owned = scorer;
        var r = (await pipeline.ScanAllAsync(Inputs(media.Wav)))[0];
        Assert.Equal(Verdict.Real, r.Verdict);
        Assert.Equal(0.05, r.SpoofProbability!.Value, 4);
        Assert.Empty(r.Timeline);
    }

    [Fact]
    public async Task DenseModeFusesBothExpertsByGateWeight()
    {
        var (scorer, pipeline) = Pipeline([0.9, 0.2], scorerOptions: new ScorerOptions { Mode = RoutingMode.Dense }, gateBias: [0f, 0f]);
        using var owned = scorer;
        var r = (await pipeline.ScanAllAsync(Inputs(media.Wav)))[0];
        Assert.Equal(RoutingMode.Dense, r.Model.Mode);
        Assert.Equal(0.55, r.SpoofProbability!.Value, 4); // 0.5 * 0.9 + 0.5 * 0.2
        Assert.Equal(Verdict.Uncertain, r.Verdict);
        Assert.All(r.Windows.Where(w => w.Speech), w => Assert.All(w.Experts!, e => Assert.NotNull(e)));
    }

    [Fact]
    public async Task AnUntrainedBundleNeverGivesAVerdict()
    {
        var (scorer, pipeline) = Pipeline([0.9, 0.2], trained: false);
        using var owned = scorer;
        var results = await pipeline.ScanAllAsync(Inputs(media.Wav, media.Silence, media.NotAudio));

        Assert.Equal(Verdict.Uncertain, results[0].Verdict);
        Assert.Equal(ScanResultBuilder.UntrainedReason, results[0].Reason);
        Assert.False(results[0].Model.Trained);
        Assert.Equal(0.9, results[0].SpoofProbability!.Value, 4); // the number is kept, the verdict withheld
        Assert.Equal(Verdict.NotApplicable, results[1].Verdict);
        Assert.Equal(Verdict.Failed, results[2].Verdict);
    }

    [Fact]
    public async Task BatchingAcrossFilesGivesTheSameResultsAsOneWindowAtATime()
    {
        var (scorer, _) = Pipeline([0.9, 0.2], scorerOptions: new ScorerOptions { Mode = RoutingMode.Dense });
        using var owned = scorer;
        var inputs = Inputs(media.All);
        var serial = await new ScanPipeline(scorer, new ScanPipelineOptions { BatchSize = 1, Decoders = 1, MaxWindowsInFlight = 1 }).ScanAllAsync(inputs);
        var batched = await new ScanPipeline(scorer, new ScanPipelineOptions { BatchSize = 64, Decoders = 2 }).ScanAllAsync(inputs);

        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(serial[i].Verdict, batched[i].Verdict);
            Assert.Equal(serial[i].SpoofProbability, batched[i].SpoofProbability);
            Assert.Equal(serial[i].Windows.Select(w => (w.Index, w.Start, w.Speech, w.Score)), batched[i].Windows.Select(w => (w.Index, w.Start, w.Speech, w.Score)));
        }
    }

    [Fact]
    public async Task AShorterHopGivesMoreOverlappingWindows()
    {
        var (scorer, pipeline3) = Pipeline([0.9, 0.2]);
        using var owned = scorer;
        var pipeline15 = new ScanPipeline(scorer, new ScanPipelineOptions { HopSamples = 24000 });
        var r3 = (await pipeline3.ScanAllAsync(Inputs(media.Long)))[0];
        var r15 = (await pipeline15.ScanAllAsync(Inputs(media.Long)))[0];
        Assert.True(r15.Windows.Count > r3.Windows.Count, $"{r15.Windows.Count} windows at 1.5 s vs {r3.Windows.Count} at 3 s");
        Assert.Equal(1.5, r15.Windows[1].Start - r15.Windows[0].Start, 3);
    }

    [Fact]
    public async Task ProgressCountsEveryFileAndTheDecodedAudio()
    {
        var (scorer, pipeline) = Pipeline([0.9, 0.2]);
        using var owned = scorer;
        var last = default(ScanProgress);
        var gate = new Lock();
        await pipeline.ScanAllAsync(Inputs(media.Wav, media.Long, media.NotAudio), p => { lock (gate) if (last is null || p.FilesDone >= last.FilesDone) last = p; });
        Assert.NotNull(last);
        Assert.Equal(3, last.FilesDone);
        Assert.Equal(3, last.FilesTotal);
        Assert.Equal(1, last.FilesFailed);
        Assert.True(last.AudioSecondsDone > 10, $"decoded {last.AudioSecondsDone} s");
    }

    [Fact]
    public async Task CancellationStopsTheScan()
    {
        var (scorer, pipeline) = Pipeline([0.9, 0.2]);
        using var owned = scorer;
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.ScanAllAsync(Inputs(media.All), null, cts.Token));
    }

    [Fact]
    public async Task AFailingProgressCallbackEndsTheRunInsteadOfHangingIt()
    {
        // Batch 1 and one window in flight: the decoder of the long file is blocked on a full channel when the scorer dies.
        var (scorer, pipeline) = Pipeline([0.9, 0.2], options: new ScanPipelineOptions { BatchSize = 1, MaxWindowsInFlight = 1, Decoders = 1 });
        using var owned = scorer;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            pipeline.ScanAllAsync(Inputs(media.Long, media.Wav), _ => throw new InvalidOperationException("callback broke")));
        Assert.Equal("callback broke", ex.Message);
    }

    [Fact]
    public async Task ResultsRoundTripThroughTheSharedJsonConvention()
    {
        var (scorer, pipeline) = Pipeline([0.9, 0.2]);
        using var owned = scorer;
        var r = (await pipeline.ScanAllAsync(Inputs(media.Wav)))[0];
        var json = JsonSerializer.Serialize(r, ScanJson.Options);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("Fake", doc.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(ScanResult.CurrentSchema, doc.RootElement.GetProperty("schema").GetString());
        Assert.False(doc.RootElement.TryGetProperty("reason", out _)); // nulls are left out
        var back = JsonSerializer.Deserialize<ScanResult>(json, ScanJson.Options)!;
        Assert.Equal(r.ScanId, back.ScanId);
        Assert.Equal(r.SpoofProbability, back.SpoofProbability);
        Assert.Equal(r.Windows.Count, back.Windows.Count);
        Assert.Equal(r.Model.Experts, back.Model.Experts);
    }
}
