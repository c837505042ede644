namespace MoeFunctions.Audio;

/// <summary>What the decoder learned about the source, reported in every result.</summary>
/// <param name="Format">Container/codec detected from the content (wav, mp3, ogg-vorbis, ogg-opus, flac, or ffmpeg's format name).</param>
/// <param name="Decoder">Which decoder produced the samples (e.g. "NAudio.Core", "NLayer", "ffmpeg").</param>
/// <param name="SampleRate">Original sample rate in Hz.</param>
/// <param name="Channels">Original channel count.</param>
/// <param name="DurationSeconds">Duration when the container states it; null when only known after decoding.</param>
public sealed record MediaFacts(string Format, string Decoder, int SampleRate, int Channels, double? DurationSeconds);

/// <summary>The input cannot be decoded. <see cref="Exception.Message"/> is a reason fit to show a user and to record in a Failed result.</summary>
public sealed class MediaDecodeException(string reason, Exception? inner = null) : Exception(reason, inner);
