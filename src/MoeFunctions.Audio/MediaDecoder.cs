namespace MoeFunctions.Audio;

/// <summary>Entry point of the audio pipeline: sniffs the container by its magic bytes (never the extension) and opens a 16 kHz mono stream.</summary>
public static class MediaDecoder
{
    public const int TargetSampleRate = 16000;

    /// <summary>Opens <paramref name="input"/> (read forward only; it need not be seekable). The stream is owned by the returned source.</summary>
    /// <exception cref="MediaDecodeException">Unknown or unsupported content, or a corrupt header.</exception>
    public static IMonoAudioSource Open(Stream input, DecodeOptions? options = null) =>
        throw new NotImplementedException();

    public static IMonoAudioSource OpenFile(string path, DecodeOptions? options = null) =>
        Open(File.OpenRead(path), options);
}
