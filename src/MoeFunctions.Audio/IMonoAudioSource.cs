namespace MoeFunctions.Audio;

/// <summary>
/// A decoded, downmixed, resampled stream: mono float samples in [-1, 1] at <see cref="MediaDecoder.TargetSampleRate"/>.
/// Pulled block by block so a two-hour file is never held in memory whole.
/// </summary>
public interface IMonoAudioSource : IDisposable
{
    MediaFacts Facts { get; }

    /// <summary>Fills <paramref name="destination"/> with up to its length of samples; returns how many, 0 at the end.</summary>
    /// <exception cref="MediaDecodeException">The stream turned out to be corrupt or broke a limit while decoding.</exception>
    int Read(Span<float> destination);
}
