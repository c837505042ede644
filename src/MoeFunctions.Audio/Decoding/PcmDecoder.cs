namespace MoeFunctions.Audio.Decoding;

/// <summary>A format decoder: interleaved float frames at the source's own rate and channel count.</summary>
internal abstract class PcmDecoder : IDisposable
{
    public abstract string Format { get; }
    public abstract string DecoderName { get; }
    public abstract int SampleRate { get; }
    public abstract int Channels { get; }
    /// <summary>Channels of the source, where the decoder already mixes them down (<see cref="Channels"/> is what it delivers).</summary>
    public virtual int SourceChannels => Channels;
    /// <summary>Duration stated by the container, when it states one.</summary>
    public virtual double? DurationSeconds => null;

    /// <summary>Fills <paramref name="interleaved"/> (length a multiple of <see cref="Channels"/>) and returns whole frames read; 0 at the end.</summary>
    public abstract int ReadFrames(Span<float> interleaved);

    public virtual void Dispose() { }

    protected static void CheckLayout(string format, int sampleRate, int channels)
    {
        if (sampleRate <= 0) throw new MediaDecodeException($"{format}: invalid sample rate {sampleRate} Hz");
        if (sampleRate < 1000 || sampleRate > 768_000)
            throw new MediaDecodeException($"{format}: unsupported sample rate {sampleRate} Hz (1000..768000 Hz accepted)");
        if (channels <= 0) throw new MediaDecodeException($"{format}: invalid channel count {channels}");
        if (channels > 64) throw new MediaDecodeException($"{format}: unsupported channel count {channels} (at most 64)");
    }
}
