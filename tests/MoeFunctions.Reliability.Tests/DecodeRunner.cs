using System.Diagnostics;
using MoeFunctions.Audio;

namespace MoeFunctions.Reliability.Tests;

public enum OutcomeKind
{
    /// <summary>MediaDecodeException with a reason: becomes a Failed result.</summary>
    Failed,
    /// <summary>Decoded, but no window holds speech: becomes a NotApplicable result.</summary>
    NotApplicable,
    /// <summary>Decoded with at least one speech window: gets scored.</summary>
    Scored,
    /// <summary>Any other exception escaped: a bug.</summary>
    Crashed,
    /// <summary>Did not finish within the time limit: a bug.</summary>
    Hung,
}

public sealed record Outcome(OutcomeKind Kind, string? Reason, int Windows, int SpeechWindows, double AudioSeconds,
                             long PeakLiveBytes, TimeSpan Elapsed, Exception? Error)
{
    public override string ToString() =>
        $"{Kind} windows={Windows} speech={SpeechWindows} audio={AudioSeconds:0.#}s peakLive={PeakLiveBytes / 1e6:0.#}MB " +
        $"in {Elapsed.TotalSeconds:0.00}s{(Reason != null ? $" reason=\"{Reason}\"" : "")}{(Error != null ? $" error={Error}" : "")}";
}

/// <summary>
/// Runs MediaDecoder.Open + Windower.Split over one input on a worker task with a deadline, the way a scan does,
/// and classifies how it ended. A hung decode is cancelled at the next window and reported as <see cref="OutcomeKind.Hung"/>.
/// </summary>
public static class DecodeRunner
{
    /// <summary>The promise of issue 8: every bad input ends within 10 s on this machine.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    /// <param name="trackMemory">Samples the live managed heap (after a full GC) every 100 windows; for the streamed huge inputs.</param>
    public static Outcome Run(Func<Stream> open, DecodeOptions? options = null, TimeSpan? limit = null, bool trackMemory = false) =>
        Run(() => MediaDecoder.Open(open(), options), limit, trackMemory);

    public static Outcome RunFile(string path, DecodeOptions? options = null, TimeSpan? limit = null) =>
        Run(() => MediaDecoder.OpenFile(path, options), limit, false);

    public static Outcome Run(Func<IMonoAudioSource> open, TimeSpan? limit, bool trackMemory)
    {
        using var cts = new CancellationTokenSource();
        var sw = Stopwatch.StartNew();
        long baseline = trackMemory ? GC.GetTotalMemory(true) : 0;
        int windows = 0, speech = 0; // shared with the worker so a Hung outcome says how far it got
        var work = Task.Run(() =>
        {
            long peak = 0;
            double audio = 0;
            try
            {
                using var source = open();
                foreach (var w in Windower.Split(source, new WindowOptions()))
                {
                    cts.Token.ThrowIfCancellationRequested();
                    windows++;
                    if (w.IsSpeech) speech++;
                    audio = w.EndSeconds;
                    if (trackMemory && windows % 100 == 0) peak = Math.Max(peak, GC.GetTotalMemory(true) - baseline);
                }
                var kind = windows == 0 ? OutcomeKind.Crashed : speech == 0 ? OutcomeKind.NotApplicable : OutcomeKind.Scored;
                var error = windows == 0 ? new InvalidOperationException("decoded without error but produced no window") : null;
                return new Outcome(kind, null, windows, speech, audio, peak, sw.Elapsed, error);
            }
            catch (MediaDecodeException e)
            {
                return new Outcome(OutcomeKind.Failed, e.Message, windows, speech, audio, peak, sw.Elapsed, null);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                return new Outcome(OutcomeKind.Hung, null, windows, speech, audio, peak, sw.Elapsed, null);
            }
            catch (Exception e)
            {
                return new Outcome(OutcomeKind.Crashed, null, windows, speech, audio, peak, sw.Elapsed, e);
            }
        });
        if (work.Wait(limit ?? Limit)) return work.Result;
        cts.Cancel();
        return new Outcome(OutcomeKind.Hung, null, Volatile.Read(ref windows), Volatile.Read(ref speech), Volatile.Read(ref windows) * 3.0, 0, sw.Elapsed, null);
    }
}
