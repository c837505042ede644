using Microsoft.Extensions.Logging;
using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

/// <summary>Routing modes on bundles of constant experts (fc2 weights zero) so every fused score is predictable.</summary>
public sealed class MoeScorerTests : IClassFixture<MoeScorerTests.Bundles>
{
    private const double Tol = 1e-5;
    private static readonly double[] Bona = [0.9, 0.05, 0.45];

    /// <summary>Written once per class: writing an expert graph takes a moment.</summary>
    public sealed class Bundles : IDisposable
    {
        private readonly TempDir _fixed = new(), _steered = new();
        /// <summary>Classic gate bias [0, 3, 0]: always prefers expert 2 (index 1); enhanced gate prefers expert 1 (index 0).</summary>
        public ModelBundle Fixed { get; }
        /// <summary>Classic gate logits = [1, 0, -1] * window[0]: window[0] = +1 ranks experts 0,1,2; -1 ranks 2,1,0.</summary>
        public ModelBundle Steered { get; }

        public Bundles()
        {
            TestBundles.Write(_fixed.Path, Bona, TestBundles.ClassicGate([0f, 3f, 0f]), TestBundles.EnhancedGate([2f, 0f, 0f]));
            Fixed = ModelBundle.Load(_fixed.Path);
            TestBundles.Write(_steered.Path, Bona, TestBundles.ClassicGate([0f, 0f, 0f], [1f, 0f, -1f]));
            Steered = ModelBundle.Load(_steered.Path);
        }

        public void Dispose() { _fixed.Dispose(); _steered.Dispose(); }
    }

    private readonly Bundles _b;
    public MoeScorerTests(Bundles b) => _b = b;

    private static List<(int Expert, int[] Windows)> Record(MoeScorer scorer)
    {
        var runs = new List<(int, int[])>();
        scorer.ExpertRan = (e, w) => { lock (runs) runs.Add((e, w.ToArray())); };
        return runs;
    }

    private static float[][] Windows(params float[] steer) => steer.Select((s, i) => TestBundles.Window(s, seed: i)).ToArray();

    [Fact]
    public void Sparse_top1_runs_only_the_expert_the_gate_picks_and_returns_its_probability()
    {
        using var scorer = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 1 });
        var runs = Record(scorer);
        var scores = scorer.Score(Windows(0, 0, 0, 0));

        Assert.Equal([(1, new[] { 0, 1, 2, 3 })], runs.Select(r => (r.Expert, r.Windows)));
        var gate = TestBundles.Softmax(0, 3, 0);
        foreach (var s in scores)
        {
            Assert.Equal(1, s.ExpertsRun);
            Assert.True(float.IsNaN(s.ExpertBonafide[0]) && float.IsNaN(s.ExpertBonafide[2]));
            Assert.Equal(Bona[1], s.ExpertBonafide[1], Tol);
            Assert.Equal(Bona[1], s.FusedBonafide, Tol);
            Assert.Equal(1 - Bona[1], s.SpoofProbability, Tol);
            for (var e = 0; e < 3; e++) Assert.Equal(gate[e], s.GateWeights[e], Tol);
        }
    }

    [Fact]
    public void Sparse_groups_windows_so_each_expert_runs_once_per_batch()
    {
        using var scorer = new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 1 });
        var runs = Record(scorer);
        var scores = scorer.Score(Windows(1, -1, 1, -1, 1));

        Assert.Equal(2, runs.Count);
        Assert.Equal([0, 2, 4], runs.Single(r => r.Expert == 0).Windows);
        Assert.Equal([1, 3], runs.Single(r => r.Expert == 2).Windows);
        Assert.Equal(1 - Bona[0], scores[0].SpoofProbability, Tol);
        Assert.Equal(1 - Bona[2], scores[1].SpoofProbability, Tol);
    }

    [Fact]
    public void Sparse_top2_renormalises_the_selected_gate_weights()
    {
        using var scorer = new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2 });
        var runs = Record(scorer);
        var scores = scorer.Score(Windows(1, -1));

        Assert.Equal(3, runs.Count); // experts 0 and 1 for window 0, 2 and 1 for window 1: expert 1 once for both
        Assert.Equal([0, 1], runs.Single(r => r.Expert == 1).Windows);
        var w = TestBundles.Softmax(1, 0, -1);
        var expected0 = (w[0] * Bona[0] + w[1] * Bona[1]) / (w[0] + w[1]);
        var expected1 = (w[0] * Bona[2] + w[1] * Bona[1]) / (w[0] + w[1]); // window 1's weights are w reversed
        Assert.Equal(expected0, scores[0].FusedBonafide, Tol);
        Assert.Equal(expected1, scores[1].FusedBonafide, Tol);
        Assert.True(float.IsNaN(scores[0].ExpertBonafide[2]) && float.IsNaN(scores[1].ExpertBonafide[0]));
    }

    [Fact]
    public void Dense_returns_the_gate_weighted_mix_of_all_experts()
    {
        using var scorer = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Dense });
        var runs = Record(scorer);
        var scores = scorer.Score(Windows(0, 0, 0));

        Assert.Equal([0, 1, 2], runs.Select(r => r.Expert).Order());
        var w = TestBundles.Softmax(0, 3, 0);
        var expected = w[0] * Bona[0] + w[1] * Bona[1] + w[2] * Bona[2];
        Assert.All(scores, s =>
        {
            Assert.Equal(3, s.ExpertsRun);
            Assert.Equal(expected, s.FusedBonafide, Tol);
            Assert.Equal(1 - expected, s.SpoofProbability, Tol);
        });
    }

    [Fact]
    public void Dense_with_the_enhanced_gate_uses_its_weights_over_the_embeddings()
    {
        using var scorer = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced });
        Assert.Equal(GateKind.Enhanced, scorer.Gate);
        var scores = scorer.Score(Windows(0, 0));
        var w = TestBundles.Softmax(2, 0, 0);
        var expected = w[0] * Bona[0] + w[1] * Bona[1] + w[2] * Bona[2];
        Assert.All(scores, s =>
        {
            for (var e = 0; e < 3; e++) Assert.Equal(w[e], s.GateWeights[e], Tol);
            Assert.Equal(expected, s.FusedBonafide, Tol);
        });
    }

    [Fact]
    public void The_enhanced_gate_outside_dense_mode_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() =>
            new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Sparse, Gate = GateKind.Enhanced }));
        Assert.Throws<InvalidOperationException>(() =>
            new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced }));
    }

    [Fact]
    public void Cascade_adds_the_next_expert_only_for_windows_near_the_threshold()
    {
        // window[0] = +1: top-1 is expert 0 (P(spoof) 0.10, far from 0.5: stop).
        // window[0] = -1: top-1 is expert 2 (P(spoof) 0.55, within 0.1: add expert 1 -> 0.658, outside: stop).
        using var scorer = new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Cascade, CascadeMargin = 0.1, Threshold = 0.5 });
        var runs = Record(scorer);
        var scores = scorer.Score(Windows(1, -1, 1, -1));

        Assert.Equal([0, 2], runs.Single(r => r.Expert == 0).Windows);
        Assert.Equal([1, 3], runs.Single(r => r.Expert == 2).Windows);
        Assert.Equal([1, 3], runs.Single(r => r.Expert == 1).Windows);
        Assert.Equal(3, runs.Count);

        var w = TestBundles.Softmax(-1, 0, 1);
        var fused = (w[2] * Bona[2] + w[1] * Bona[1]) / (w[2] + w[1]);
        Assert.Equal(1 - Bona[0], scores[0].SpoofProbability, Tol);
        Assert.Equal(1, scores[0].ExpertsRun);
        Assert.Equal(2, scores[1].ExpertsRun);
        Assert.True(float.IsNaN(scores[1].ExpertBonafide[0]));
        Assert.Equal(1 - fused, scores[1].SpoofProbability, Tol);
    }

    [Fact]
    public void Cascade_replayed_over_every_expert_equals_scoring_in_cascade_mode()
    {
        var options = new ScorerOptions { Mode = RoutingMode.Cascade, CascadeMargin = 0.1, Threshold = 0.5 };
        using var cascade = new MoeScorer(_b.Steered, options);
        using var dense = new MoeScorer(_b.Steered, options with { Mode = RoutingMode.Dense });
        var windows = Windows(1, -1, 1, -1, 0.2f);
        var real = cascade.Score(windows);
        var replayed = dense.Score(windows).Select(dense.CascadeOver).ToArray();

        Assert.Equal([1, 2, 1, 2], real.Take(4).Select(s => s.ExpertsRun)); // both ways to stop
        for (var i = 0; i < windows.Length; i++)
        {
            Assert.Equal(real[i].SpoofProbability, replayed[i].SpoofProbability, 1e-12);
            Assert.Equal(real[i].ExpertBonafide.Select(float.IsNaN), replayed[i].ExpertBonafide.Select(float.IsNaN));
        }
        Assert.Throws<ArgumentException>(() => dense.CascadeOver(real[0])); // one expert ran: nothing to replay from
    }

    [Fact]
    public void Cascade_replayed_with_the_enhanced_gate_follows_its_ranking()
    {
        // The enhanced gate prefers expert 0 (P(spoof) 0.10): far from 0.5, so the replay stops after it; with a full margin
        // it adds every expert and equals dense.
        using var narrow = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced, CascadeMargin = 0.1, Threshold = 0.5 });
        using var full = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced, CascadeMargin = 1.0 });
        var scores = narrow.Score(Windows(0, 0));
        foreach (var s in scores)
        {
            var stopped = narrow.CascadeOver(s);
            Assert.Equal(1, stopped.ExpertsRun);
            Assert.Equal(1 - Bona[0], stopped.SpoofProbability, Tol);
            Assert.Equal(s.FusedBonafide, full.CascadeOver(s).FusedBonafide, 1e-9);
        }
    }

    [Fact]
    public void Cascade_with_a_full_margin_runs_every_expert_and_equals_dense()
    {
        using var cascade = new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Cascade, CascadeMargin = 1.0 });
        using var dense = new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Dense });
        var windows = Windows(1, -1, 0.3f);
        var c = cascade.Score(windows);
        var d = dense.Score(windows);
        for (var i = 0; i < windows.Length; i++)
        {
            Assert.Equal(3, c[i].ExpertsRun);
            Assert.Equal(d[i].FusedBonafide, c[i].FusedBonafide, 1e-9);
        }
    }

    [Fact]
    public void Calibration_from_the_manifest_maps_the_fused_score()
    {
        using var dir = new TempDir();
        TestBundles.Write(dir.Path, [0.7], TestBundles.ClassicGate([0f]),
            edit: m => m with { Calibration = new Calibration { A = 2, B = 0.5 } });
        using var scorer = new MoeScorer(ModelBundle.Load(dir.Path));
        var s = scorer.Score(Windows(0)).Single();
        var logit = Math.Log(0.3 / 0.7);
        Assert.Equal(1 / (1 + Math.Exp(-(2 * logit + 0.5))), s.SpoofProbability, Tol);
        Assert.Equal(0.7, s.FusedBonafide, Tol);
    }

    [Fact]
    public void Cuda_without_a_gpu_falls_back_to_cpu_with_one_warning()
    {
        var logger = new ListLogger();
        using var scorer = new MoeScorer(_b.Fixed, new ScorerOptions { Device = ExecutionDevice.Cuda, Mode = RoutingMode.Dense }, logger);
        using var cpu = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Dense });
        Assert.Equal("cpu", scorer.ActiveDevice);
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("CUDA", warning.Message);
        var windows = Windows(0, 0);
        Assert.Equal(cpu.Score(windows).Select(s => s.SpoofProbability), scorer.Score(windows).Select(s => s.SpoofProbability));
        Assert.Single(logger.Entries); // scoring adds no more warnings
    }

    [Fact]
    public void Concurrent_calls_give_the_same_scores_as_sequential_ones()
    {
        using var scorer = new MoeScorer(_b.Steered, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2 });
        var batches = Enumerable.Range(0, 6).Select(b => Windows(b % 2 == 0 ? 1 : -1, 0.5f)).ToArray();
        var sequential = batches.Select(b => scorer.Score(b).Select(s => s.SpoofProbability).ToArray()).ToArray();
        var parallel = new double[batches.Length][];
        Parallel.For(0, batches.Length, i => parallel[i] = scorer.Score(batches[i]).Select(s => s.SpoofProbability).ToArray());
        for (var i = 0; i < batches.Length; i++) Assert.Equal(sequential[i], parallel[i]);
    }

    [Fact]
    public void Long_lists_are_scored_in_batches_of_at_most_MaxBatch()
    {
        using var scorer = new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 1 });
        var runs = Record(scorer);
        var window = TestBundles.Window(0, 1);
        var scores = scorer.Score(Enumerable.Repeat(window, MoeScorer.MaxBatch + 1).ToArray());
        Assert.Equal(MoeScorer.MaxBatch + 1, scores.Count);
        Assert.Equal([MoeScorer.MaxBatch, 1], runs.Select(r => r.Windows.Length));
        Assert.All(scores, s => Assert.Equal(1 - Bona[1], s.SpoofProbability, Tol));
    }

    [Fact]
    public void Bad_windows_are_refused_and_an_empty_batch_is_empty()
    {
        using var scorer = new MoeScorer(_b.Fixed);
        Assert.Empty(scorer.Score([]));
        var e = Assert.Throws<ArgumentException>(() => scorer.Score([new float[48000], new float[100]]));
        Assert.Contains("window 1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MoeScorer(_b.Fixed, new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 4 }));
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
