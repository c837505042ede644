namespace MoeFunctions.Audio;

/// <summary>How a 16 kHz stream is cut into model windows.</summary>
/// <param name="WindowSamples">Window length; the model's is 48,000 (3 s).</param>
/// <param name="HopSamples">Distance between window starts; equal to WindowSamples for no overlap.</param>
public sealed record WindowOptions(int WindowSamples = 48000, int HopSamples = 48000)
{
    /// <summary>Windows whose speech share is below this are marked not applicable instead of being scored.</summary>
    /// <remarks>0.05 of a 3 s window is 0.15 s of speech frames: one short word (0.3-0.8 s, mostly vowel) in a longer,
    /// otherwise silent file still counts. It was 0.2 (0.6 s), which dropped such a word (ShortUtteranceTests).</remarks>
    public double MinSpeechFraction { get; init; } = 0.05;
}

/// <summary>One model window. <see cref="Samples"/> always has WindowSamples values; a file shorter than a window is tiled (repeated), as the reference does.</summary>
/// <param name="Index">0-based position in the file.</param>
/// <param name="StartSeconds">Start of the audio this window covers.</param>
/// <param name="EndSeconds">End of the real (untiled) audio this window covers.</param>
/// <param name="IsSpeech">False for silence and non-speech: such windows are not scored.</param>
/// <param name="SpeechFraction">Share of the window's frames judged to be speech.</param>
public sealed record AudioWindow(int Index, double StartSeconds, double EndSeconds, float[] Samples, bool IsSpeech, double SpeechFraction);

public static class Windower
{
    /// <summary>Streams windows from <paramref name="source"/>. The last partial window of a file longer than one window is the file's last full window length (it overlaps the previous one), so every sample is covered.</summary>
    /// <remarks>Holds at most WindowSamples + HopSamples samples, whatever the file's length. Speech decisions use <see cref="SpeechDetector"/> on the real (untiled) samples.</remarks>
    public static IEnumerable<AudioWindow> Split(IMonoAudioSource source, WindowOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (options.WindowSamples <= 0) throw new ArgumentOutOfRangeException(nameof(options), "WindowSamples must be positive");
        if (options.HopSamples <= 0) throw new ArgumentOutOfRangeException(nameof(options), "HopSamples must be positive");
        return SplitIterator(source, options);
    }

    private static IEnumerable<AudioWindow> SplitIterator(IMonoAudioSource source, WindowOptions options)
    {
        int w = options.WindowSamples, hop = options.HopSamples;
        const double rate = MediaDecoder.TargetSampleRate;
        var data = new float[w + hop];
        long baseAbs = 0;       // absolute sample index of data[0]
        int filled = 0;         // valid samples in data
        long nextStart = 0;     // absolute start of the next full window
        long lastEnd = 0;       // absolute end of the last emitted window
        int index = 0;
        bool ended = false;

        while (true)
        {
            // Read until data holds [nextStart, nextStart + w) or the input ends.
            while (!ended && baseAbs + filled < nextStart + w)
            {
                int n = source.Read(data.AsSpan(filled));
                if (n == 0) ended = true;
                filled += n;
            }
            long total = baseAbs + filled;
            if (total >= nextStart + w)
            {
                yield return Make(index++, nextStart, data.AsSpan((int)(nextStart - baseAbs), w), w, options);
                lastEnd = nextStart + w;
                // Keep from this window's start: a final end-aligned window may reach back into it.
                int drop = (int)(nextStart - baseAbs);
                if (drop > 0) { data.AsSpan(drop, filled - drop).CopyTo(data); filled -= drop; baseAbs += drop; }
                nextStart += hop;
                // Samples between windows (hop > window) are skipped, but the last w samples must stay available.
                continue;
            }
            if (!ended) continue;
            if (total == 0) yield break;
            if (index == 0)
            {
                // Shorter than one window: tile the real samples, as the reference does.
                var tiled = new float[w];
                int n = (int)total;
                for (int pos = 0; pos < w; pos += n) data.AsSpan(0, Math.Min(n, w - pos)).CopyTo(tiled.AsSpan(pos));
                var f = SpeechDetector.Analyze(data.AsSpan(0, n));
                yield return new AudioWindow(0, 0, total / rate, tiled, f.SpeechFraction >= options.MinSpeechFraction && f.SpeechFraction > 0, f.SpeechFraction);
            }
            else if (total > lastEnd)
            {
                long start = total - w;
                yield return Make(index++, start, data.AsSpan((int)(start - baseAbs), w), w, options);
            }
            yield break;
        }
    }

    private static AudioWindow Make(int index, long start, ReadOnlySpan<float> samples, int w, WindowOptions options)
    {
        var f = SpeechDetector.Analyze(samples);
        const double rate = MediaDecoder.TargetSampleRate;
        return new AudioWindow(index, start / rate, (start + w) / rate, samples.ToArray(), f.SpeechFraction >= options.MinSpeechFraction && f.SpeechFraction > 0, f.SpeechFraction);
    }
}
