using System.Numerics;
using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

/// <summary>The memory levers of <see cref="ScorerOptions"/> (expert runs split into small batches, one shared ONNX Runtime
/// arena) must not change a single bit of any score. Uses random-weight experts, whose outputs differ from window to window.</summary>
public sealed class ExpertBatchTests : IClassFixture<ExpertBatchTests.Bundle>
{
    public sealed class Bundle : IDisposable
    {
        private readonly TempDir _dir = new();
        public ModelBundle Value { get; }
        public Bundle()
        {
            UntrainedBundle.Write(_dir.Path);
            Value = ModelBundle.Load(_dir.Path);
        }
        public void Dispose() => _dir.Dispose();
    }

    private readonly ModelBundle _bundle;
    public ExpertBatchTests(Bundle b) => _bundle = b.Value;

    // Different noise and levels per window, so a score handed to the wrong window would show.
    private static float[][] Windows(int n) => Enumerable.Range(0, n).Select(i =>
    {
        var w = TestBundles.Window(0, seed: 100 + i);
        for (var s = 0; s < w.Length; s++) w[s] *= 1 + i;
        return w;
    }).ToArray();

    private static IReadOnlyList<WindowScore> Score(ModelBundle bundle, ScorerOptions options, float[][] windows, List<int>? runSizes = null)
    {
        using var scorer = new MoeScorer(bundle, options);
        if (runSizes is not null) scorer.ExpertSessionRan = (_, count) => { lock (runSizes) runSizes.Add(count); };
        return scorer.Score(windows);
    }

    private static void AssertBitIdentical(IReadOnlyList<WindowScore> expected, IReadOnlyList<WindowScore> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i].SpoofProbability), BitConverter.DoubleToInt64Bits(actual[i].SpoofProbability));
            Assert.Equal(expected[i].ExpertBonafide, actual[i].ExpertBonafide); // float[] equality is exact, NaN equal to NaN
            Assert.Equal(expected[i].GateWeights, actual[i].GateWeights);
        }
    }

    [Fact]
    public void Dense_scores_are_bit_identical_for_every_expert_batch_and_runs_are_split_to_it()
    {
        var windows = Windows(11);
        var whole = Score(_bundle, new ScorerOptions { Mode = RoutingMode.Dense, ExpertBatch = 64, SharedCpuArena = false }, windows);
        Assert.Equal(11, whole.Select(s => s.ExpertBonafide[0]).Distinct().Count()); // the experts do tell the windows apart

        var sizes = new List<int>();
        var split = Score(_bundle, new ScorerOptions { Mode = RoutingMode.Dense, ExpertBatch = 3 }, windows, sizes);
        Assert.Equal(Enumerable.Repeat(new[] { 3, 3, 3, 2 }, 4).SelectMany(x => x), sizes);
        AssertBitIdentical(whole, split);
        AssertBitIdentical(whole, Score(_bundle, new ScorerOptions { Mode = RoutingMode.Dense, ExpertBatch = 1 }, windows));
    }

    [Theory]
    [InlineData(RoutingMode.Sparse, 2)]
    [InlineData(RoutingMode.Sparse, 1)]
    [InlineData(RoutingMode.Cascade, 1)]
    public void Routed_scores_are_bit_identical_for_every_expert_batch(RoutingMode mode, int topK)
    {
        // Routed modes hand each expert a scattered subset of the batch: the copy path of the split runs.
        var windows = Windows(13);
        var whole = Score(_bundle, new ScorerOptions { Mode = mode, TopK = topK, CascadeMargin = 0.5, ExpertBatch = 64, SharedCpuArena = false }, windows);
        var sizes = new List<int>();
        var split = Score(_bundle, new ScorerOptions { Mode = mode, TopK = topK, CascadeMargin = 0.5, ExpertBatch = 2 }, windows, sizes);
        Assert.All(sizes, s => Assert.InRange(s, 1, 2));
        Assert.Equal(whole.Sum(s => s.ExpertsRun), sizes.Sum());
        AssertBitIdentical(whole, split);
    }

    [Theory]
    [InlineData(RoutingMode.Sparse, 2, 13)]
    [InlineData(RoutingMode.Cascade, 1, 13)]
    [InlineData(RoutingMode.Dense, 4, 11)]
    public void Runs_padded_to_powers_of_two_give_bit_identical_scores(RoutingMode mode, int topK, int count)
    {
        // The CUDA default (bounded input shapes), exercised on the CPU: the zero windows' outputs are dropped.
        var windows = Windows(count);
        var options = new ScorerOptions { Mode = mode, TopK = topK, CascadeMargin = 0.5, ExpertBatch = 64 };
        var plainSizes = new List<int>();
        var plain = Score(_bundle, options, windows, plainSizes);
        var sizes = new List<int>();
        var padded = Score(_bundle, options with { PadExpertRuns = true }, windows, sizes);
        Assert.Contains(plainSizes, s => !BitOperations.IsPow2(s)); // the case pads something
        Assert.All(sizes, s => Assert.True(BitOperations.IsPow2(s), $"run of {s} windows"));
        Assert.Equal(plainSizes.Select(s => (int)BitOperations.RoundUpToPowerOf2((uint)s)), sizes);
        AssertBitIdentical(plain, padded);
    }

    [Fact]
    public void One_session_per_run_size_gives_bit_identical_scores()
    {
        // The CUDA default, exercised on the CPU: two batches whose groups hand the experts several run sizes.
        var windows = Windows(13);
        var options = new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2, ExpertBatch = 64, PadExpertRuns = true };
        var plain = Score(_bundle, options, windows).Concat(Score(_bundle, options, windows[..5])).ToList();
        using var scorer = new MoeScorer(_bundle, options with { SessionPerRunSize = true });
        var sizes = new List<(int Expert, int Windows)>();
        scorer.ExpertSessionRan = (e, count) => { lock (sizes) sizes.Add((e, count)); };
        var perSize = scorer.Score(windows).Concat(scorer.Score(windows[..5])).ToList();
        AssertBitIdentical(plain, perSize);
        Assert.Equal(sizes.Distinct().Count(), scorer.ExpertSessionCount); // one session per (expert, size) that ran
        Assert.True(scorer.ExpertSessionCount > 4, $"{scorer.ExpertSessionCount} sessions: the case must run an expert at two sizes");
    }

    [Fact]
    public void Spinning_threads_change_speed_only_not_scores()
    {
        var windows = Windows(7);
        var quiet = Score(_bundle, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2 }, windows);
        var spinning = Score(_bundle, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2, SpinningThreads = true }, windows);
        Assert.Equal(7, quiet.Select(s => s.SpoofProbability).Distinct().Count());
        AssertBitIdentical(quiet, spinning);
    }

    [Fact]
    public void An_expert_batch_below_one_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MoeScorer(_bundle, new ScorerOptions { ExpertBatch = 0 }));
        Assert.Contains("ExpertBatch", e.Message);
    }
}
