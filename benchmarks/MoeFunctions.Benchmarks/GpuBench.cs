using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using MoeFunctions.Audio;
using MoeFunctions.Detection;
using NAudio.Wave;

namespace MoeFunctions.Benchmarks;

/// <summary>`moe-bench --gpu`: the scanner's CUDA path against its CPU path on the same machine, in one run: one expert of the
/// bundle (ONNX Runtime sessions with the scanner's settings), the whole scorer (front end, gate, experts, fusion), and
/// `moe scan` end to end. Needs the CUDA-capable runtime (`-p:OrtGpu=true`); without CUDA it says why and measures nothing.</summary>
public static class GpuBench
{
    private const int FeatureLength = ModelNames.Mels * ModelNames.Frames;

    public static string Run(BenchOptions options, string speechDirectory, TextWriter log)
    {
        var page = new StringBuilder();
        void L(string line = "") { page.AppendLine(line); log.WriteLine(line); }
        var machine = Machine.Detect();
        var gpu = Machine.Run("nvidia-smi", "--query-gpu=name,driver_version,memory.total --format=csv,noheader").Trim();
        L($"# GPU benchmarks ({DateTime.UtcNow:yyyy-MM-dd})");
        L();
        L($"Machine: {(gpu.Length > 0 ? gpu : "no nvidia-smi")}; CPU {machine.Model}, {machine.Cores} cores; load average {Machine.LoadAverage()}.");
        L($"Command: `{options.CommandLine.Trim()}` (a build with `-p:OrtGpu=true`). CPU and CUDA are measured side by side in one run, rounds interleaved.");
        L();

        var bundle = ModelBundle.Load(options.ModelDirectory ?? Path.Combine(AppContext.BaseDirectory, "models", "default"));
        var rounds = options.Small ? 1 : 3;
        if (!OneExpert(options, bundle, rounds, L)) return page.ToString();

        var speech = LoadSpeech(speechDirectory);
        L("## 2. The scorer (log-mel front end on the CPU, gate, experts, fusion, calibration), windows per second");
        L();
        L("| routing | CPU | CUDA, first pass | CUDA, steady | CUDA / CPU (steady) |");
        L("| --- | ---: | ---: | ---: | ---: |");
        var windowsIn = Enumerable.Range(0, options.Small ? 8 : 256)
            .Select(i => speech.AsSpan((i * 16000) % (speech.Length - 48000), 48000).ToArray()).ToArray();
        foreach (var (name, scorerOptions) in new[]
                 {
                     ($"bundle default ({bundle.Manifest.Routing.Mode.ToString().ToLowerInvariant()}, {bundle.Manifest.Routing.Gate.ToString().ToLowerInvariant()} gate)", new ScorerOptions()),
                     ("sparse top-2 (classic gate)", new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2 }),
                     ("sparse top-2, CUDA: one session for every run size", new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2, SessionPerRunSize = false }),
                     ("sparse top-2, CUDA: runs not padded, one session", new ScorerOptions { Mode = RoutingMode.Sparse, TopK = 2, PadExpertRuns = false, SessionPerRunSize = false }),
                 })
        {
            using var onCpu = new MoeScorer(bundle, scorerOptions with { Device = ExecutionDevice.Cpu });
            using var onGpu = new MoeScorer(bundle, scorerOptions with { Device = ExecutionDevice.Cuda });
            if (onGpu.ActiveDevice != "cuda") throw new InvalidOperationException("the scorer fell back to the CPU");
            var batch = windowsIn.Take(32).ToArray();
            onCpu.Score(batch);
            onGpu.Score(batch);
            var c = new Throughput();
            var first = new Throughput();
            var g = new Throughput();
            // The first pass meets each window count for the first time (CUDA sets up each new input shape); later passes
            // repeat them, as a long-running scoring worker does. The CPU scores half as many windows per round: it is the
            // slow side, and rates stay comparable.
            for (var r = 0; r <= rounds; r++)
            {
                if (r > 0) c.Time(() => onCpu.Score(windowsIn.Take(windowsIn.Length / 2).ToArray()).Count);
                (r == 0 ? first : g).Time(() => onGpu.Score(windowsIn).Count);
            }
            L($"| {name} | {c.PerSecond:F0} | {first.PerSecond:F0} | {g.PerSecond:F0} | {g.PerSecond / c.PerSecond:F1}x |");
        }
        L();

        L("## 3. End to end (`moe scan` on WAV speech, 16 kHz mono)");
        L();
        EndToEnd(options, bundle.Directory, speech, L);
        return page.ToString();
    }

    private static void EndToEnd(BenchOptions options, string modelDirectory, float[] speech, Action<string> L)
    {
        var moe = EndToEndBench.MoeCommand(options);
        if (moe is null)
        {
            L("Not measured: no `moe` entry point next to moe-bench.");
            return;
        }
        var folder = Directory.CreateDirectory(Path.Combine(options.WorkDirectory, "gpu-e2e")).FullName;
        var files = options.Small ? 2 : 6;
        var seconds = Math.Round(options.EndToEndMinutes * 60 / files);
        for (var i = 0; i < files; i++) WriteLooped(Path.Combine(folder, $"speech{i:D2}.wav"), speech, seconds, offset: i * 7919);
        var audio = files * seconds;
        L($"{files} files, {audio / 60:0.#} min of looped speech; wall time includes process start-up and model loading; peak memory is the process's resident set (GPU memory not included).");
        L("");
        L("| device | routing | batch | wall (s) | x real time | peak memory (MB) |");
        L("| --- | --- | ---: | ---: | ---: | ---: |");
        foreach (var (device, mode, batch) in new[] { ("cpu", "sparse", 32), ("cuda", "sparse", 32), ("cpu", "default", 32), ("cuda", "default", 32), ("cuda", "default", 128) })
        {
            var json = Path.Combine(options.WorkDirectory, $"gpu-scan-{Guid.NewGuid():N}.json");
            // FP32 on both devices: the same model CPU against CUDA (the CPU's default would be INT8 with a calibrated bundle).
            List<string> args = ["scan", folder, "--device", device, "--precision", "fp32", "--batch", batch.ToString(CultureInfo.InvariantCulture), "--quiet", "--json", json, "--model", modelDirectory];
            if (mode == "sparse") args.AddRange(["--mode", "sparse", "--top-k", "2"]);
            var (exit, wall, peakKb, output) = EndToEndBench.Measure(moe.Value.File, [.. moe.Value.Prefix, .. args]);
            var fellBack = output.Contains("scoring on the CPU", StringComparison.Ordinal);
            var routing = mode == "sparse" ? "sparse top-2" : "bundle default";
            if (exit != 0 || !File.Exists(json) || (device == "cuda" && fellBack))
            {
                L($"| {device} | {routing} | {batch} | failed (exit {exit}{(fellBack ? ", CUDA fell back to CPU" : "")}) | | |");
                continue;
            }
            File.Delete(json);
            L($"| {device} | {routing} | {batch} | {wall:F1} | {audio / wall:F0} | {peakKb / 1024.0:F0} |");
        }
        L("");
        L($"Command per row: `{moe.Value.Display} scan FOLDER --device cpu|cuda --precision fp32 --batch N [--mode sparse --top-k 2] --quiet --json OUT.json --model {modelDirectory}`");
    }

    /// <summary>Section 1: the bundle's first expert on the CPU and in CUDA sessions, the scanner's and one per lever, batch by
    /// batch. False (and nothing measured) where CUDA cannot be used.</summary>
    private static bool OneExpert(BenchOptions options, ModelBundle bundle, int rounds, Action<string> L)
    {
        var expertFile = bundle.PathOf(bundle.Manifest.Experts[0].File);
        using var cpu = new InferenceSession(expertFile, ExpertBench.ScannerSettings());
        var bundleGraph = File.ReadAllBytes(expertFile);
        var scannerGraph = MoeScorer.CudaExpertGraph(bundleGraph);
        IReadOnlyDictionary<string, string> Scanners(string key, string value) => new Dictionary<string, string>(MoeScorer.CudaSettings) { [key] = value };
        // The scanner's CUDA expert first (MoeScorer.CudaExpertGraph with MoeScorer.CudaSettings), TF32 off last (the agreement line uses both).
        (string Column, byte[] Graph, IReadOnlyDictionary<string, string> Settings)[] columns =
        [
            ("CUDA (scanner)", scannerGraph, MoeScorer.CudaSettings),
            ("CUDA, prefer_nhwc", scannerGraph, Scanners("prefer_nhwc", "1")),
            ("CUDA, bundle's graph", bundleGraph, MoeScorer.CudaSettings), // the scanner's CUDA expert before 2026-11-27
            ("CUDA, bundle's graph, prefer_nhwc", bundleGraph, Scanners("prefer_nhwc", "1")),
            ("CUDA, exhaustive search", scannerGraph, Scanners("cudnn_conv_algo_search", "EXHAUSTIVE")),
            ("CUDA, TF32 off", scannerGraph, Scanners("use_tf32", "0")),
        ];
        var sessions = new List<InferenceSession>();
        try
        {
            try
            {
                foreach (var column in columns) sessions.Add(CudaSession(column.Graph, column.Settings));
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                L($"CUDA is not available here, nothing measured: {e.Message}");
                return false;
            }
            var (cuda, noTf32) = (sessions[0], sessions[^1]);
            var features = ExpertBench.RandomFeatures(128, new Random(11));

            L($"## 1. One expert ({bundle.Manifest.Experts[0].Name} of {bundle.Manifest.Name} {bundle.Manifest.Version}), ONNX Runtime, windows per second");
            L("");
            L($"The scanner's CUDA expert: the Split + Max graph of the same weights, with {string.Join(", ", MoeScorer.CudaSettings.Select(kv => $"{kv.Key}={kv.Value}"))}, the rest ONNX Runtime's defaults (TF32 on). " +
              "The CPU column runs the bundle's file (b + Relu(a - b)) with the scanner's CPU settings.");
            var (probDiff, embDiff) = Agreement(cpu, cuda, features, 32);
            var (probDiff32, embDiff32) = Agreement(cpu, noTf32, features, 32);
            L($"Largest absolute difference from the CPU on 32 windows: {probDiff:E1} (probabilities) and {embDiff:E1} (embeddings) with TF32; " +
              $"{probDiff32:E1} and {embDiff32:E1} with TF32 off.");
            L("");
            L($"| batch | CPU | {columns[0].Column} | CUDA / CPU | CUDA GFLOP/s | {string.Join(" | ", columns.Skip(1).Select(c => c.Column))} |");
            L("|" + string.Concat(Enumerable.Repeat(" ---: |", columns.Length + 4)));
            foreach (var batch in options.Small ? [1, 8] : new[] { 1, 8, 32, 128 })
            {
                var c = new Throughput();
                var g = sessions.Select(_ => new Throughput()).ToArray();
                RunExpert(cpu, features, batch);
                foreach (var session in sessions) RunExpert(session, features, batch);
                var windows = options.Small ? 8 : 256;
                var gpuRuns = Math.Max(1, windows / batch);
                for (var r = 0; r < rounds; r++)
                {
                    c.Time(() => ExpertBench.Repeat(Math.Max(1, windows / 4 / batch), () => RunExpert(cpu, features, batch)) * batch);
                    for (var i = 0; i < sessions.Count; i++)
                    {
                        var session = sessions[i];
                        g[i].Time(() => ExpertBench.Repeat(gpuRuns, () => RunExpert(session, features, batch)) * batch);
                    }
                }
                L($"| {batch} | {c.PerSecond:F0} | {g[0].PerSecond:F0} | {g[0].PerSecond / c.PerSecond:F1}x | {g[0].PerSecond * LcnnCost.GflopPerWindow:F0} | " +
                  $"{string.Join(" | ", g.Skip(1).Select(t => t.PerSecond.ToString("F0", CultureInfo.InvariantCulture)))} |");
            }
            L("");
            // What one unseen window count costs a session: routing hands each expert a different count per batch.
            var firstMs = new List<string>();
            foreach (var (label, session) in new[] { ("CPU", cpu), ("CUDA", cuda) })
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                RunExpert(session, features, 23);
                var cold = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                RunExpert(session, features, 23);
                firstMs.Add($"{label} {cold:F0} ms the first time, {sw.Elapsed.TotalMilliseconds:F1} ms the second");
            }
            L($"A window count the session has not seen (23 windows): {string.Join("; ", firstMs)}.");
            L("");
            L($"Inputs are copied from host memory and outputs back for every run, as the scanner does. GFLOP/s counts {LcnnCost.GflopPerWindow:F2} GFLOP per window (LcnnCost: convolutions and dense layers, one MAC = 2 FLOPs).");
            L("");
            return true;
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
    }

    private static InferenceSession CudaSession(byte[] model, IReadOnlyDictionary<string, string> settings)
    {
        var options = ExpertBench.ScannerSettings();
        MoeScorer.AppendCuda(options, settings);
        return new InferenceSession(model, options);
    }

    private static void RunExpert(InferenceSession session, float[] features, int batch) => Outputs(session, features, batch).Dispose();

    private static IDisposableReadOnlyCollection<OrtValue> Outputs(InferenceSession session, float[] features, int batch)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, features.AsMemory(0, batch * FeatureLength),
            [batch, 1, ModelNames.Mels, ModelNames.Frames]);
        using var run = new RunOptions();
        return session.Run(run, [ModelNames.ExpertInput], [value], [ModelNames.ExpertProbs, ModelNames.ExpertEmbedding]);
    }

    /// <summary>Largest absolute difference between the two sessions' probabilities and embeddings on the same windows.</summary>
    private static (double Probs, double Embeddings) Agreement(InferenceSession a, InferenceSession b, float[] features, int batch)
    {
        using var x = Outputs(a, features, batch);
        using var y = Outputs(b, features, batch);
        static double MaxDiff(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
        {
            double m = 0;
            for (var i = 0; i < p.Length; i++) m = Math.Max(m, Math.Abs(p[i] - q[i]));
            return m;
        }
        return (MaxDiff(x[0].GetTensorDataAsSpan<float>(), y[0].GetTensorDataAsSpan<float>()),
                MaxDiff(x[1].GetTensorDataAsSpan<float>(), y[1].GetTensorDataAsSpan<float>()));
    }

    /// <summary>Every WAV in the folder, decoded by the scanner's decoder and concatenated (the GPU machine has no espeak-ng
    /// or ffmpeg to make media, so the speech travels with the command).</summary>
    private static float[] LoadSpeech(string directory)
    {
        var samples = new List<float>();
        var buffer = new float[16384];
        foreach (var file in Directory.GetFiles(directory, "*.wav").Order(StringComparer.Ordinal))
        {
            using var source = MediaDecoder.OpenFile(file);
            int n;
            while ((n = source.Read(buffer)) > 0) samples.AddRange(buffer.AsSpan(0, n));
        }
        if (samples.Count < 2 * 48000) throw new InvalidDataException($"{directory} holds less than 6 s of WAV speech");
        return [.. samples];
    }

    private static void WriteLooped(string path, float[] speech, double seconds, int offset)
    {
        var total = (long)(seconds * 16000);
        using var writer = new WaveFileWriter(path, new WaveFormat(16000, 16, 1));
        var buffer = new byte[2 * 16000];
        for (long done = 0; done < total;)
        {
            var n = (int)Math.Min(16000, total - done);
            for (var i = 0; i < n; i++)
            {
                var s = (short)Math.Clamp(speech[(offset + done + i) % speech.Length] * 32767f, short.MinValue, short.MaxValue);
                buffer[2 * i] = (byte)s;
                buffer[2 * i + 1] = (byte)(s >> 8);
            }
            writer.Write(buffer, 0, 2 * n);
            done += n;
        }
    }
}
