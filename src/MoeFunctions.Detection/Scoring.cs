using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace MoeFunctions.Detection;

public enum ExecutionDevice { Cpu, Cuda }

/// <summary>Arithmetic of the experts' convolutions. Int8 needs the bundle's INT8 calibration (`moe quantize`) and runs on the CPU
/// only; its accuracy change is measured per bundle (docs/model-card.md). Auto picks Int8 on the CPU when every expert of the
/// bundle is calibrated and Fp32 otherwise (CUDA, or an uncalibrated bundle): what `moe scan` and the Functions app default to.</summary>
public enum ExpertPrecision { Fp32, Int8, Auto }

/// <summary>Per-run choices; null values take the bundle's routing defaults.</summary>
public sealed record ScorerOptions
{
    public RoutingMode? Mode { get; init; }
    public int? TopK { get; init; }
    public GateKind? Gate { get; init; }
    public double? CascadeMargin { get; init; }
    /// <summary>Decision threshold the cascade compares against; null = the bundle's decision threshold.</summary>
    public double? Threshold { get; init; }
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;
    /// <summary>FP32 (the trained weights as shipped), INT8 convolutions quantized at load from the bundle's calibration, or Auto
    /// (INT8 where it can run, see <see cref="ExpertPrecision"/>). The library's default stays FP32, the reference arithmetic.</summary>
    public ExpertPrecision Precision { get; init; } = ExpertPrecision.Fp32;
    /// <summary>ONNX Runtime intra-op threads; 0 = runtime default.</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>Most windows per expert session run. It bounds ONNX Runtime's activations: conv1's output alone is
    /// 6.2 MB per window (64 x 80 x 301 floats), and its MFM split and max add as much again. Scores do not depend on it
    /// (ONNX Runtime convolves image by image); see docs/benchmarks.md "Memory levers". CPU only: on CUDA each expert sees its
    /// whole group of windows in one run.</summary>
    public int ExpertBatch { get; init; } = MoeScorer.DefaultExpertBatch;
    /// <summary>Pad each expert run to the next power of two windows (zero windows, outputs dropped), so a session sees at most
    /// seven window counts instead of one per routing outcome. Null = on for CUDA, off for the CPU: on CUDA a new input shape
    /// costs a convolution set-up far larger than the run (29 ms against 1.8 ms on an H100, docs/benchmarks-gpu.md); the CPU
    /// pays for every padded window and has no such set-up.</summary>
    public bool? PadExpertRuns { get; init; }
    /// <summary>Give each expert one session per run size (created at the size's first run). ONNX Runtime's CUDA convolutions keep
    /// the setup of the last input shape only, so one session that alternates between sizes sets up again at every change.
    /// Null = on for CUDA, off for the CPU.</summary>
    public bool? SessionPerRunSize { get; init; }
    /// <summary>Every session draws its CPU tensors from one process-wide ONNX Runtime arena instead of an arena each:
    /// sessions run one after another, so one arena sized for the largest run serves them all.</summary>
    public bool SharedCpuArena { get; init; } = true;
    /// <summary>ONNX Runtime's intra-op workers keep spinning after a run (its default). Off here: every expert and gate session has
    /// its own pool, so the pool of the session that just ran spins on the cores the next session, the front end and the decoders
    /// need. Measured on the dev split with 2 cores: off made dense 1.26x and the cascade 1.95x faster (docs/benchmarks.md, section 2).</summary>
    public bool SpinningThreads { get; init; }
}

/// <summary>The score of one window.</summary>
/// <param name="SpoofProbability">Calibrated P(spoof) in [0,1].</param>
/// <param name="FusedBonafide">Gate-weighted (renormalised over the experts run) bona-fide probability before calibration.</param>
/// <param name="GateWeights">The gate's softmax over all experts (length E), before top-k.</param>
/// <param name="ExpertBonafide">Each expert's bona-fide probability; NaN for experts not run on this window.</param>
public sealed record WindowScore(double SpoofProbability, double FusedBonafide, float[] GateWeights, float[] ExpertBonafide)
{
    public int ExpertsRun => ExpertBonafide.Count(v => !float.IsNaN(v));
}

/// <summary>Gate -> selected experts -> fusion -> calibration, over batches of 48,000-sample windows. Sessions are created once; thread-safe for concurrent Score calls.</summary>
public sealed class MoeScorer : IDisposable
{
    private const int FeatureLength = ModelNames.Mels * ModelNames.Frames;
    /// <summary>Default of <see cref="ScorerOptions.ExpertBatch"/>.</summary>
    public const int DefaultExpertBatch = 4;
    private static readonly string[] ExpertOutputs = [ModelNames.ExpertProbs, ModelNames.ExpertEmbedding];
    private static readonly string[] GateOutputs = [ModelNames.GateWeights];

    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession[] _experts;
    private readonly InferenceSession? _classicGate;
    private readonly InferenceSession? _enhancedGate;
    private readonly ConcurrentBag<LogMelFrontEnd> _frontEnds = [];
    private readonly int _e;
    private readonly int _expertBatch;
    private readonly bool _padExpertRuns;
    /// <summary>Where sessions are per run size: each expert's graph, the size its constructor session took, and the other sizes' sessions.</summary>
    private readonly byte[][]? _expertGraphs;
    private readonly int[] _firstRunSize;
    private readonly ConcurrentDictionary<(int Expert, int Windows), Lazy<InferenceSession>> _sizedSessions = new();

    public MoeScorer(ModelBundle bundle, ScorerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        options ??= new ScorerOptions();
        var m = bundle.Manifest;
        Bundle = bundle;
        _e = m.Experts.Count;
        Mode = options.Mode ?? m.Routing.Mode;
        Gate = Mode == RoutingMode.Dense ? options.Gate ?? m.Routing.Gate : GateKind.Classic;
        TopK = Mode switch { RoutingMode.Dense => _e, RoutingMode.Cascade => 1, _ => options.TopK ?? m.Routing.TopK };
        CascadeMargin = options.CascadeMargin ?? m.Routing.CascadeMargin;
        Threshold = options.Threshold ?? m.Decision.Threshold;
        if (options.ExpertBatch < 1) throw new ArgumentOutOfRangeException(nameof(options), $"ExpertBatch {options.ExpertBatch} must be at least 1");
        if (TopK < 1 || TopK > _e) throw new ArgumentOutOfRangeException(nameof(options), $"topK {TopK} must be in 1..{_e}");
        if (Gate == GateKind.Enhanced && m.Gates.Enhanced is null)
            throw new InvalidOperationException($"bundle '{m.Name}' has no enhanced gate; use the classic gate");
        if (options.Gate == GateKind.Enhanced && Mode != RoutingMode.Dense)
            throw new InvalidOperationException("the enhanced gate needs every expert's embedding: it runs in dense mode only");
        var uncalibrated = m.Experts.FirstOrDefault(x => x.Int8 is null);
        Precision = options.Precision;
        // Auto resolves on the requested device: a CUDA request that falls back to the CPU keeps FP32.
        if (Precision == ExpertPrecision.Auto)
        {
            var cpu = options.Device != ExecutionDevice.Cuda;
            Precision = cpu && uncalibrated is null ? ExpertPrecision.Int8 : ExpertPrecision.Fp32;
            if (cpu && uncalibrated is not null)
                logger?.LogInformation("Expert '{Expert}' of bundle '{Bundle}' has no INT8 calibration, so the experts run in FP32, about 1.3x slower on the CPU; `moe quantize` calibrates the bundle",
                    uncalibrated.Name, m.Name);
        }
        if (Precision == ExpertPrecision.Int8)
        {
            // The QDQ graph is written for ONNX Runtime's CPU kernels (QLinearConv); CUDA runs QDQ differently and was not measured.
            if (options.Device == ExecutionDevice.Cuda) throw new InvalidOperationException("INT8 experts run on the CPU only; use --device cpu or FP32 weights");
            if (uncalibrated is { } plain)
                throw new InvalidOperationException($"bundle '{m.Name}' {m.Version} has no INT8 calibration for expert '{plain.Name}' (run `moe quantize` on it, or use FP32 weights)");
        }

        (_sessionOptions, ActiveDevice) = CreateOptions(options, logger);
        // The runs of ExpertBatch windows bound CPU memory; on CUDA the activations live on the card and small runs leave it idle.
        _expertBatch = ActiveDevice == "cuda" ? int.MaxValue : options.ExpertBatch;
        _padExpertRuns = options.PadExpertRuns ?? ActiveDevice == "cuda";
        _firstRunSize = new int[_e];
        try
        {
            var graphs = m.Experts.Select(x =>
            {
                var file = File.ReadAllBytes(bundle.PathOf(x.File));
                return Precision == ExpertPrecision.Int8 ? QuantizedExpert(file, x.Int8!) : ActiveDevice == "cuda" ? CudaExpertGraph(file) : file;
            }).ToArray();
            if (options.SessionPerRunSize ?? ActiveDevice == "cuda") _expertGraphs = graphs;
            _experts = graphs.Select(g => new InferenceSession(g, _sessionOptions)).ToArray();
            if (Gate == GateKind.Classic) _classicGate = new InferenceSession(bundle.PathOf(m.Gates.Classic!.File), _sessionOptions);
            else _enhancedGate = new InferenceSession(bundle.PathOf(m.Gates.Enhanced!.File), _sessionOptions);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The expert's INT8 graph, written from its FP32 file and the manifest's calibration (milliseconds: no data pass).</summary>
    private static byte[] QuantizedExpert(byte[] expertOnnx, ExpertInt8 int8) =>
        OnnxGraphWriter.WriteQuantizedExpert(ExpertQuantizer.ReadWeights(expertOnnx), int8.Ranges, int8.Weights);

    /// <summary>The expert as the CUDA sessions run it: rewritten with one conv, Split and Max per MFM (<see cref="MfmForm.SplitMax"/>),
    /// which ran 1.1-1.5x faster on an H100 than the bundle's b + Relu(a - b) form that suits the CPU (docs/benchmarks-gpu.md).
    /// Same weights, same function. A graph that is not an LCNN written by <see cref="OnnxGraphWriter"/> is returned as it is.</summary>
    public static byte[] CudaExpertGraph(byte[] expertOnnx)
    {
        try { return OnnxGraphWriter.WriteExpert(ExpertQuantizer.ReadWeights(expertOnnx), MfmForm.SplitMax); }
        catch (InvalidDataException) { return expertOnnx; }
    }

    /// <summary>What the experts run in: Fp32 or Int8, never Auto.</summary>
    public ExpertPrecision Precision { get; }

    /// <summary>"cpu" or "cuda": what actually runs (CUDA falls back to CPU with one warning).</summary>
    public string ActiveDevice { get; }
    public ModelBundle Bundle { get; }
    public RoutingMode Mode { get; }
    public GateKind Gate { get; }
    /// <summary>Experts per window in sparse mode; E in dense mode; the first round's 1 in cascade mode.</summary>
    public int TopK { get; }
    public double CascadeMargin { get; }
    public double Threshold { get; }

    private static (SessionOptions, string) CreateOptions(ScorerOptions options, ILogger? logger)
    {
        SessionOptions NewOptions()
        {
            var o = CpuSessionOptions(options);
            if (options.SharedCpuArena && SharedArena.Value) o.AddSessionConfigEntry("session.use_env_allocators", "1");
            return o;
        }

        var so = NewOptions();
        if (options.Device != ExecutionDevice.Cuda) return (so, "cpu");
        try
        {
            AppendCuda(so, CudaSettings);
            return (so, "cuda");
        }
        // The CPU runtime package lacks the CUDA entry point; the GPU package throws when CUDA/cuDNN libraries are missing.
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            so.Dispose();
            logger?.LogWarning("CUDA was requested but is not available ({Reason}); scoring on the CPU", e.Message);
            return (NewOptions(), "cpu");
        }
    }

    /// <summary>The session settings of every scorer session but the arena (benchmarks measure with the same ones).</summary>
    public static SessionOptions CpuSessionOptions(ScorerOptions options)
    {
        // No memory pattern: routed batches give each expert a different window count per run, and a pattern is planned
        // (and its block kept) per input shape; measured 1 % slower at most and about 50 MB less (docs/benchmarks.md).
        var o = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, EnableMemoryPattern = false };
        if (options.IntraOpThreads > 0) o.IntraOpNumThreads = options.IntraOpThreads;
        if (!options.SpinningThreads) o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        return o;
    }

    /// <summary>The CUDA provider settings of every scorer session. HEURISTIC convolution search: ONNX Runtime's default
    /// (EXHAUSTIVE) times every cuDNN algorithm for each new input shape, and routing gives each expert a different window
    /// count per run, so sparse scoring paid that search again and again (docs/benchmarks-gpu.md, which also measures
    /// prefer_nhwc: no consistent gain with the Split + Max graph).</summary>
    public static IReadOnlyDictionary<string, string> CudaSettings { get; } =
        new Dictionary<string, string> { ["device_id"] = "0", ["cudnn_conv_algo_search"] = "HEURISTIC" };

    /// <summary>Appends the CUDA provider with these provider options; throws as <see cref="SessionOptions.AppendExecutionProvider_CUDA(int)"/>
    /// does where CUDA is missing.</summary>
    public static void AppendCuda(SessionOptions options, IReadOnlyDictionary<string, string> settings)
    {
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string>(settings));
        options.AppendExecutionProvider_CUDA(cuda);
    }

    /// <summary>Registers the shared CPU arena with the ONNX Runtime environment, once per process (a second registration is an error).
    /// Extend strategy kSameAsRequested: the arena grows by what a run asks for, not to the next power of two.</summary>
    private static readonly Lazy<bool> SharedArena = new(() =>
    {
        using var info = new OrtMemoryInfo(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);
        using var config = new OrtArenaCfg(maxMemory: 0, arenaExtendStrategy: 1, initialChunkSizeBytes: -1, maxDeadBytesPerChunk: -1);
        try
        {
            OrtEnv.Instance().CreateAndRegisterAllocator(info, config);
            return true;
        }
        // Another component registered one first: sessions keep their own arenas (more memory, same scores).
        catch (OnnxRuntimeException) { return false; }
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public IReadOnlyList<WindowScore> Score(IReadOnlyList<float[]> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var n = windows.Count;
        if (n == 0) return [];
        for (var i = 0; i < n; i++)
            if (windows[i] is not { Length: ModelNames.WindowSamples })
                throw new ArgumentException($"window {i} must have {ModelNames.WindowSamples} samples", nameof(windows));
        if (n <= MaxBatch) return ScoreBatch(windows);
        // Bound the feature buffers (about 100 KB per window) for callers that pass a whole file at once.
        var all = new List<WindowScore>(n);
        for (var start = 0; start < n; start += MaxBatch)
            all.AddRange(ScoreBatch(windows.Skip(start).Take(MaxBatch).ToArray()));
        return all;
    }

    /// <summary>Largest number of windows scored in one pass; longer lists are split.</summary>
    public const int MaxBatch = 64;

    private IReadOnlyList<WindowScore> ScoreBatch(IReadOnlyList<float[]> windows)
    {
        var n = windows.Count;

        var features = ArrayPool<float>.Shared.Rent(n * FeatureLength);
        try
        {
            ComputeFeatures(windows, features);
            var bona = new float[n][];
            for (var i = 0; i < n; i++) { bona[i] = new float[_e]; Array.Fill(bona[i], float.NaN); }

            float[][] weights;
            if (Gate == GateKind.Enhanced)
            {
                var embeddings = ArrayPool<float>.Shared.Rent(n * _e * ModelNames.EmbeddingSize);
                try
                {
                    var all = Enumerable.Range(0, n).ToArray();
                    for (var e = 0; e < _e; e++) RunExpert(e, all, features, bona, embeddings);
                    weights = RunGate(_enhancedGate!, ModelNames.EnhancedGateInput, embeddings, [n, _e, ModelNames.EmbeddingSize], n);
                }
                finally { ArrayPool<float>.Shared.Return(embeddings); }
                return Enumerable.Range(0, n).Select(i => Fuse(weights[i], bona[i])).ToArray();
            }

            weights = RunClassicGate(windows);
            var order = weights.Select(Rank).ToArray();
            if (Mode == RoutingMode.Cascade) return Cascade(order, weights, features, bona);

            var k = Mode == RoutingMode.Dense ? _e : TopK;
            RunRound(Enumerable.Range(0, n).ToArray(), order, k, features, bona);
            return Enumerable.Range(0, n).Select(i => Fuse(weights[i], bona[i])).ToArray();
        }
        finally { ArrayPool<float>.Shared.Return(features); }
    }

    /// <summary>Top-1 for every window; each further round adds the next-ranked expert only where P(spoof) is still within the margin of the threshold.</summary>
    private WindowScore[] Cascade(int[][] order, float[][] weights, float[] features, float[][] bona)
    {
        var n = weights.Length;
        var scores = new WindowScore[n];
        var active = Enumerable.Range(0, n).ToArray();
        for (var round = 0; round < _e && active.Length > 0; round++)
        {
            RunRound(active, order, round + 1, features, bona, firstRank: round);
            var next = new List<int>();
            foreach (var i in active)
            {
                scores[i] = Fuse(weights[i], bona[i]);
                if (NeedsAnotherExpert(scores[i])) next.Add(i);
            }
            active = next.ToArray();
        }
        return scores;
    }

    /// <summary>The cascade goes on while the fused P(spoof) is within the margin of the threshold.</summary>
    private bool NeedsAnotherExpert(WindowScore score) => Math.Abs(score.SpoofProbability - Threshold) < CascadeMargin;

    /// <summary>
    /// What the cascade returns for a window, replayed from a score in which every expert ran: the gate's ranking and the
    /// stop rule of <see cref="RoutingMode.Cascade"/> (this scorer's threshold and margin) over the experts' outputs.
    /// For the enhanced gate, which needs every expert's embedding and so never runs a real cascade, this shows what the
    /// cascade's fusion costs in accuracy (`moe eval`); for the classic gate it equals scoring in cascade mode.
    /// </summary>
    public WindowScore CascadeOver(WindowScore allExperts)
    {
        ArgumentNullException.ThrowIfNull(allExperts);
        if (allExperts.ExpertsRun != _e) throw new ArgumentException("every expert must have run on the window", nameof(allExperts));
        var bona = new float[_e];
        Array.Fill(bona, float.NaN);
        WindowScore score = null!;
        foreach (var e in Rank(allExperts.GateWeights))
        {
            bona[e] = allExperts.ExpertBonafide[e];
            score = Fuse(allExperts.GateWeights, bona);
            if (!NeedsAnotherExpert(score)) break;
        }
        return score;
    }

    /// <summary>Runs ranks firstRank..rankEnd-1 of each window's expert order, grouped so each expert session runs once.</summary>
    private void RunRound(int[] windows, int[][] order, int rankEnd, float[] features, float[][] bona, int firstRank = 0)
    {
        var groups = new List<int>[_e];
        foreach (var i in windows)
            for (var r = firstRank; r < rankEnd; r++)
                (groups[order[i][r]] ??= []).Add(i);
        for (var e = 0; e < _e; e++)
            if (groups[e] is { Count: > 0 } g) RunExpert(e, g.ToArray(), features, bona, embeddings: null);
    }

    /// <summary>Test hook: called with (expert index, window indices) each time an expert is run on a group of windows (in runs of at most ExpertBatch).</summary>
    internal Action<int, int[]>? ExpertRan { get; set; }

    private void RunExpert(int expert, int[] windows, float[] features, float[][] bona, float[]? embeddings)
    {
        ExpertRan?.Invoke(expert, windows);
        for (var start = 0; start < windows.Length; start += _expertBatch)
            RunExpertChunk(expert, windows.AsSpan(start, Math.Min(_expertBatch, windows.Length - start)), features, bona, embeddings);
    }

    /// <summary>Test hook: called with (expert index, window count) for each session run (the padded count where runs are padded).</summary>
    internal Action<int, int>? ExpertSessionRan { get; set; }

    private void RunExpertChunk(int expert, ReadOnlySpan<int> windows, float[] features, float[][] bona, float[]? embeddings)
    {
        var count = windows.Length;
        var runCount = _padExpertRuns ? (int)BitOperations.RoundUpToPowerOf2((uint)count) : count;
        ExpertSessionRan?.Invoke(expert, runCount);
        var first = windows[0];
        var contiguous = runCount == count; // windows first..first+count-1, unpadded: feed the features in place
        for (var r = 1; r < count && contiguous; r++) contiguous = windows[r] == first + r;
        var input = contiguous ? features : ArrayPool<float>.Shared.Rent(runCount * FeatureLength);
        try
        {
            var offset = contiguous ? first * FeatureLength : 0;
            if (!contiguous)
            {
                for (var r = 0; r < count; r++)
                    features.AsSpan(windows[r] * FeatureLength, FeatureLength).CopyTo(input.AsSpan(r * FeatureLength));
                input.AsSpan(count * FeatureLength, (runCount - count) * FeatureLength).Clear();
            }
            using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(offset, runCount * FeatureLength),
                [runCount, 1, ModelNames.Mels, ModelNames.Frames]);
            using var runOptions = new RunOptions();
            using var outputs = ExpertSession(expert, runCount).Run(runOptions, [ModelNames.ExpertInput], [value], ExpertOutputs);
            var probs = outputs[0].GetTensorDataAsSpan<float>();
            var emb = outputs[1].GetTensorDataAsSpan<float>();
            for (var r = 0; r < count; r++)
            {
                var w = windows[r];
                bona[w][expert] = probs[r * 2];
                if (embeddings is not null)
                    emb.Slice(r * ModelNames.EmbeddingSize, ModelNames.EmbeddingSize)
                        .CopyTo(embeddings.AsSpan((w * _e + expert) * ModelNames.EmbeddingSize));
            }
        }
        finally
        {
            if (!contiguous) ArrayPool<float>.Shared.Return(input);
        }
    }

    /// <summary>The session for a run of this many windows: the expert's one session, or, per run size, the constructor's
    /// session for the first size the expert runs at and a session of its own for each other size.</summary>
    private InferenceSession ExpertSession(int expert, int windows)
    {
        if (_expertGraphs is null) return _experts[expert];
        var first = Interlocked.CompareExchange(ref _firstRunSize[expert], windows, 0);
        if (first == 0 || first == windows) return _experts[expert];
        return _sizedSessions.GetOrAdd((expert, windows),
            key => new Lazy<InferenceSession>(() => new InferenceSession(_expertGraphs[key.Expert], _sessionOptions))).Value;
    }

    /// <summary>Expert sessions created so far (tests).</summary>
    internal int ExpertSessionCount => _experts.Length + _sizedSessions.Count(s => s.Value.IsValueCreated);

    private float[][] RunClassicGate(IReadOnlyList<float[]> windows)
    {
        var n = windows.Count;
        var input = ArrayPool<float>.Shared.Rent(n * ModelNames.WindowSamples);
        try
        {
            for (var i = 0; i < n; i++) windows[i].CopyTo(input, i * ModelNames.WindowSamples);
            return RunGate(_classicGate!, ModelNames.ClassicGateInput, input, [n, ModelNames.WindowSamples], n);
        }
        finally { ArrayPool<float>.Shared.Return(input); }
    }

    private float[][] RunGate(InferenceSession gate, string inputName, float[] input, long[] shape, int n)
    {
        var length = (int)shape.Aggregate(1L, (a, b) => a * b);
        using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, length), shape);
        using var runOptions = new RunOptions();
        using var outputs = gate.Run(runOptions, [inputName], [value], GateOutputs);
        var w = outputs[0].GetTensorDataAsSpan<float>();
        var result = new float[n][];
        for (var i = 0; i < n; i++) result[i] = w.Slice(i * _e, _e).ToArray();
        return result;
    }

    private void ComputeFeatures(IReadOnlyList<float[]> windows, float[] features)
    {
        Parallel.For(0, windows.Count,
            () => _frontEnds.TryTake(out var fe) ? fe : new LogMelFrontEnd(Bundle.Manifest.FrontEnd, ModelNames.WindowSamples),
            (i, _, fe) =>
            {
                fe.Compute(windows[i], features.AsSpan(i * FeatureLength, FeatureLength));
                return fe;
            },
            fe => _frontEnds.Add(fe));
    }

    /// <summary>Expert indices by descending gate weight (ties: lower index first).</summary>
    private static int[] Rank(float[] weights) =>
        Enumerable.Range(0, weights.Length).OrderByDescending(e => weights[e]).ThenBy(e => e).ToArray();

    /// <summary>Renormalised gate-weighted bona-fide probability over the experts that ran, then calibration.</summary>
    private WindowScore Fuse(float[] weights, float[] bona)
    {
        double sumW = 0, sum = 0;
        var ran = 0;
        for (var e = 0; e < weights.Length; e++)
        {
            if (float.IsNaN(bona[e])) continue;
            sumW += weights[e];
            sum += weights[e] * bona[e];
            ran++;
        }
        // Weights that underflowed to zero: fall back to the plain mean of the experts run.
        var fused = sumW > 0 ? sum / sumW : bona.Where(b => !float.IsNaN(b)).Average(b => (double)b);
        fused = Math.Clamp(fused, 0, 1);
        return new WindowScore(Calibrate(1 - fused), fused, weights, (float[])bona.Clone());
    }

    /// <summary>P(spoof) = sigmoid(A * logit(p) + B) per <see cref="Calibration"/>; p is clamped away from 0 and 1 so the logit stays finite.</summary>
    public double Calibrate(double spoof)
    {
        var c = Bundle.Manifest.Calibration;
        var p = Math.Clamp(spoof, 1e-7, 1 - 1e-7);
        var z = c.A * Math.Log(p / (1 - p)) + c.B;
        return 1 / (1 + Math.Exp(-z));
    }

    public void Dispose()
    {
        foreach (var s in _experts ?? []) s?.Dispose();
        foreach (var s in _sizedSessions.Values) if (s.IsValueCreated) s.Value.Dispose();
        _classicGate?.Dispose();
        _enhancedGate?.Dispose();
        _sessionOptions?.Dispose();
    }
}
