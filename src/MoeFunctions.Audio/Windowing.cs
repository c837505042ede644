namespace MoeFunctions.Audio;

/// <summary>How a 16 kHz stream is cut into model windows.</summary>
/// <param name="WindowSamples">Window length; the model's is 48,000 (3 s).</param>
/// <param name="HopSamples">Distance between window starts; equal to WindowSamples for no overlap.</param>
public sealed record WindowOptions(int WindowSamples = 48000, int HopSamples = 48000)
{
    /// <summary>Windows whose speech share is below this are marked not applicable instead of being scored.</summary>
    public double MinSpeechFraction { get; init; } = 0.2;
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
    public static IEnumerable<AudioWindow> Split(IMonoAudioSource source, WindowOptions options) =>
        throw new NotImplementedException();
}
