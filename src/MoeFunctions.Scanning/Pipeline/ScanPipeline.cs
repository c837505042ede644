using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MoeFunctions.Audio;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Pipeline;

public sealed record ScanPipelineOptions
{
    /// <summary>Windows per Score call; batches are filled across files.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Files decoded at once (each decoder works through whole files).</summary>
    public int Decoders { get; init; } = 2;
    /// <summary>Window hop in samples; null takes the bundle's default.</summary>
    public int? HopSamples { get; init; }
    /// <summary>File verdict rule; null takes the bundle's.</summary>
    public DecisionRule? Decision { get; init; }
    public DecodeOptions Decode { get; init; } = DecodeOptions.Default;
    /// <summary>Record every window in the result (a two-hour file has 2,400 records at the default hop).</summary>
    public bool IncludeWindows { get; init; } = true;
    /// <summary>Decoded windows waiting for the scorer; bounds memory (one window = 192 KB).</summary>
    public int MaxWindowsInFlight { get; init; } = 96;
}

/// <summary>
/// The in-process scan: decoders (one task per file at a time, up to <see cref="ScanPipelineOptions.Decoders"/>)
/// stream windows into a bounded channel; one scorer task takes batches across files and calls
/// <see cref="MoeScorer.Score"/>; a file is aggregated into its <see cref="ScanResult"/> when its last window is scored.
/// Decode and inference overlap, memory stays bounded, and bad input ends as a Failed result, never an exception.
/// </summary>
public sealed class ScanPipeline
{
    private readonly MoeScorer _scorer;
    private readonly ScanPipelineOptions _options;
    private readonly WindowOptions _windows;
    private readonly DecisionRule _decision;
    private readonly string[] _expertNames;

    public ScanPipeline(MoeScorer scorer, ScanPipelineOptions? options = null)
    {
        _scorer = scorer;
        _options = options ?? new ScanPipelineOptions();
        if (_options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "BatchSize must be at least 1");
        var manifest = scorer.Bundle.Manifest;
        _windows = new WindowOptions(manifest.WindowSamples, _options.HopSamples ?? manifest.DefaultHopSamples);
        _decision = _options.Decision ?? manifest.Decision;
        _expertNames = manifest.Experts.Select(e => e.Name).ToArray();
        Model = ScanResultBuilder.Model(scorer, _decision);
    }

    /// <summary>What every result of this pipeline records as its model.</summary>
    public ModelSummary Model { get; }

    public WindowOptions Windows => _windows;

    /// <summary>Scans <paramref name="inputs"/>; results arrive in completion order (not input order), each with its input's index.</summary>
    /// <param name="onProgress">Called from pipeline threads after each batch and each finished file.</param>
    public async IAsyncEnumerable<ScannedFile> RunAsync(
        IReadOnlyList<ScanInput> inputs, Action<ScanProgress>? onProgress = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = new Run(this, inputs, onProgress, cts.Token);
        var work = run.StartAsync();
        try
        {
            await foreach (var result in run.Results.ReadAllAsync(cts.Token).ConfigureAwait(false))
                yield return result;
            await work.ConfigureAwait(false);
        }
        finally
        {
            // A consumer that stops early must not leave decoders and the scorer running.
            await cts.CancelAsync().ConfigureAwait(false);
            try { await work.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }

    /// <summary>Scans everything and returns the results in input order.</summary>
    public async Task<IReadOnlyList<ScanResult>> ScanAllAsync(
        IReadOnlyList<ScanInput> inputs, Action<ScanProgress>? onProgress = null, CancellationToken cancellationToken = default)
    {
        var results = new ScanResult[inputs.Count];
        await foreach (var r in RunAsync(inputs, onProgress, cancellationToken).ConfigureAwait(false)) results[r.Index] = r.Result;
        return results;
    }

    private sealed record WindowItem(FileJob File, AudioWindow Window);

    /// <summary>One RunAsync call: the channels, the tasks and the per-file state.</summary>
    private sealed class Run
    {
        private readonly ScanPipeline _p;
        private readonly FileJob[] _files;
        private readonly Action<ScanProgress>? _onProgress;
        private readonly CancellationToken _ct;
        private readonly Channel<FileJob> _todo = Channel.CreateUnbounded<FileJob>();
        private readonly Channel<WindowItem> _windows;
        private readonly Channel<ScannedFile> _results = Channel.CreateUnbounded<ScannedFile>(new() { SingleReader = true });
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _filesDone, _filesFailed, _windowsScored;

        public Run(ScanPipeline pipeline, IReadOnlyList<ScanInput> inputs, Action<ScanProgress>? onProgress, CancellationToken ct)
        {
            _p = pipeline;
            _files = inputs.Select((input, i) => new FileJob(input, i)).ToArray();
            _onProgress = onProgress;
            _ct = ct;
            _windows = Channel.CreateBounded<WindowItem>(new BoundedChannelOptions(Math.Max(pipeline._options.MaxWindowsInFlight, pipeline._options.BatchSize))
            {
                SingleReader = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
            foreach (var f in _files) _todo.Writer.TryWrite(f);
            _todo.Writer.Complete();
        }

        public ChannelReader<ScannedFile> Results => _results.Reader;

        public async Task StartAsync()
        {
            try
            {
                var decoders = Enumerable.Range(0, Math.Clamp(_p._options.Decoders, 1, Math.Max(1, _files.Length)))
                    .Select(_ => Task.Run(DecodeLoopAsync, _ct)).ToArray();
                var scorer = Task.Factory.StartNew(ScoreLoopAsync, _ct, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
                // If the scorer dies (a bug, or a progress callback that throws), close the channel so decoders blocked on a full
                // channel stop instead of waiting forever.
                _ = scorer.ContinueWith(t => _windows.Writer.TryComplete(t.Exception?.GetBaseException()),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                try { await Task.WhenAll(decoders).ConfigureAwait(false); }
                catch (ChannelClosedException) when (scorer.IsFaulted) { }
                finally { _windows.Writer.TryComplete(); }
                await scorer.ConfigureAwait(false);
                _results.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _results.Writer.TryComplete(ex);
                throw;
            }
        }

        private async Task DecodeLoopAsync()
        {
            while (_todo.Reader.TryRead(out var file))
            {
                _ct.ThrowIfCancellationRequested();
                await DecodeAsync(file).ConfigureAwait(false);
            }
        }

        private async Task DecodeAsync(FileJob file)
        {
            file.Started();
            var decodeClock = Stopwatch.StartNew();
            Stream? stream = null;
            try
            {
                stream = file.Input.Open();
                using var source = new CountingAudioSource(MediaDecoder.Open(stream, _p._options.Decode));
                file.Source = source;
                foreach (var window in Windower.Split(source, _p._windows))
                {
                    _ct.ThrowIfCancellationRequested();
                    if (file.IsFailed) break; // scoring failed for this file: stop decoding it
                    if (!window.IsSpeech)
                    {
                        file.AddOutcome(new WindowOutcome(window.Index, window.StartSeconds, window.EndSeconds, false, null));
                        continue;
                    }
                    file.AddPending();
                    decodeClock.Stop();
                    await _windows.Writer.WriteAsync(new WindowItem(file, window), _ct).ConfigureAwait(false);
                    decodeClock.Start();
                }
                file.DecodedSeconds = source.Seconds;
            }
            catch (OperationCanceledException) when (_ct.IsCancellationRequested) { throw; }
            catch (ChannelClosedException) { throw; } // the scorer failed: the whole run ends with its exception
            catch (MediaDecodeException ex) { file.Fail(ex.Message); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { file.Fail($"cannot read the file: {ex.Message}"); }
            catch (Exception ex) { file.Fail($"decoder error ({ex.GetType().Name}): {ex.Message}"); } // bad input never crashes the scan
            finally
            {
                if (file.Source is { } s) file.DecodedSeconds = s.Seconds;
                stream?.Dispose();
            }
            file.DecodeFinished(decodeClock.Elapsed.TotalMilliseconds);
            CompleteIfDone(file);
        }

        private async Task ScoreLoopAsync()
        {
            var batch = new List<WindowItem>(_p._options.BatchSize);
            var reader = _windows.Reader;
            while (await reader.WaitToReadAsync(_ct).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < _p._options.BatchSize && reader.TryRead(out var item))
                {
                    if (item.File.IsFailed) { item.File.WindowDone(null, 0); CompleteIfDone(item.File); continue; }
                    batch.Add(item);
                }
                if (batch.Count > 0) ScoreBatch(batch);
            }
        }

        private void ScoreBatch(List<WindowItem> batch)
        {
            var clock = Stopwatch.StartNew();
            IReadOnlyList<WindowScore>? scores = null;
            string? error = null;
            try
            {
                scores = _p._scorer.Score(batch.Select(b => b.Window.Samples).ToArray());
                if (scores.Count != batch.Count) error = $"scorer returned {scores.Count} scores for {batch.Count} windows";
            }
            catch (Exception ex) when (ex is not OperationCanceledException) { error = $"scoring failed ({ex.GetType().Name}): {ex.Message}"; }
            var share = clock.Elapsed.TotalMilliseconds / batch.Count;

            for (var i = 0; i < batch.Count; i++)
            {
                var (file, w) = (batch[i].File, batch[i].Window);
                if (error is not null) file.Fail(error);
                file.WindowDone(error is null ? new WindowOutcome(w.Index, w.StartSeconds, w.EndSeconds, true, scores![i]) : null, share);
            }
            Interlocked.Add(ref _windowsScored, error is null ? batch.Count : 0);
            foreach (var file in batch.Select(b => b.File).Distinct()) CompleteIfDone(file);
            Report();
        }

        private void CompleteIfDone(FileJob file)
        {
            if (!file.TryFinish()) return;
            var result = Finish(file);
            if (result.Verdict == Verdict.Failed) Interlocked.Increment(ref _filesFailed);
            Interlocked.Increment(ref _filesDone);
            _results.Writer.TryWrite(new ScannedFile(file.Index, file.Input, result));
            Report();
        }

        private ScanResult Finish(FileJob file)
        {
            var timings = new ScanTimings
            {
                DecodeMs = Math.Round(file.DecodeMs, 1),
                ScoreMs = Math.Round(file.ScoreMs, 1),
                TotalMs = Math.Round(file.ElapsedMs, 1),
            };
            var input = file.Input;
            if (file.FailureReason is { } reason)
                return ScanResultBuilder.Failed(input.ScanId, input.Source, reason, _p.Model, timings, DateTimeOffset.UtcNow,
                    file.Source?.Facts, file.DecodedSeconds);
            try
            {
                var outcomes = file.Outcomes();
                var verdict = VerdictStage.Aggregate(outcomes, _p._decision, _p._expertNames);
                return ScanResultBuilder.Scored(input.ScanId, input.Source, file.Source!.Facts, file.DecodedSeconds, outcomes,
                    verdict, _p.Model, timings, DateTimeOffset.UtcNow, _p._options.IncludeWindows);
            }
            catch (Exception ex)
            {
                return ScanResultBuilder.Failed(input.ScanId, input.Source, $"aggregation failed ({ex.GetType().Name}): {ex.Message}",
                    _p.Model, timings, DateTimeOffset.UtcNow, file.Source?.Facts, file.DecodedSeconds);
            }
        }

        private void Report()
        {
            if (_onProgress is null) return;
            var seconds = 0.0;
            foreach (var f in _files) seconds += f.LiveSeconds;
            _onProgress(new ScanProgress(Volatile.Read(ref _filesDone), _files.Length, Volatile.Read(ref _filesFailed),
                seconds, Volatile.Read(ref _windowsScored), _clock.Elapsed));
        }
    }

    /// <summary>Per-file state shared by its decoder and the scorer; every mutation is under the lock.</summary>
    private sealed class FileJob(ScanInput input, int index)
    {
        private readonly Lock _gate = new();
        private readonly List<WindowOutcome> _outcomes = [];
        private readonly Stopwatch _clock = new();
        private int _pending;
        private bool _decodeDone, _finished;
        private double _scoreMs;

        public ScanInput Input { get; } = input;
        public int Index { get; } = index;
        public CountingAudioSource? Source { get; set; }
        public double DecodedSeconds { get; set; }
        public double DecodeMs { get; private set; }
        public string? FailureReason { get; private set; }
        public bool IsFailed { get { lock (_gate) return FailureReason is not null; } }
        public double ScoreMs { get { lock (_gate) return _scoreMs; } }
        public double ElapsedMs => _clock.Elapsed.TotalMilliseconds;
        public double LiveSeconds => Source?.Seconds ?? DecodedSeconds;

        public void Started() => _clock.Start();
        public void AddOutcome(WindowOutcome o) { lock (_gate) _outcomes.Add(o); }
        public void AddPending() { lock (_gate) _pending++; }
        public void Fail(string reason) { lock (_gate) FailureReason ??= reason; }

        public void WindowDone(WindowOutcome? outcome, double scoreMs)
        {
            lock (_gate)
            {
                _pending--;
                _scoreMs += scoreMs;
                if (outcome is not null) _outcomes.Add(outcome);
            }
        }

        public void DecodeFinished(double decodeMs)
        {
            lock (_gate) { _decodeDone = true; DecodeMs = decodeMs; }
        }

        /// <summary>True exactly once: when decoding has ended and no window of the file is still waiting to be scored.</summary>
        public bool TryFinish()
        {
            lock (_gate)
            {
                if (_finished || !_decodeDone || _pending > 0) return false;
                _finished = true;
                _clock.Stop();
                return true;
            }
        }

        public IReadOnlyList<WindowOutcome> Outcomes()
        {
            lock (_gate) return _outcomes.OrderBy(o => o.Index).ToArray();
        }
    }
}
