using System.Buffers.Binary;
using MoeFunctions.Audio.Decoding;

namespace MoeFunctions.Audio;

/// <summary>Entry point of the audio pipeline: sniffs the container by its magic bytes (never the extension) and opens a 16 kHz mono stream.</summary>
/// <remarks>
/// Managed decoders: WAV (own streaming reader), MP3 (own frame reader + NLayer's frame decoder), Ogg Vorbis (NVorbis),
/// Ogg Opus (Concentus), FLAC (own decoder). Everything else goes to ffmpeg when it is available. Downmix is the mean of all
/// channels; resampling uses our polyphase resampler. See docs/audio.md.
/// </remarks>
public static class MediaDecoder
{
    public const int TargetSampleRate = 16000;
    private const int SniffBytes = 4096;

    /// <summary>Opens <paramref name="input"/> (read forward only; it need not be seekable). The stream is owned by the returned source.</summary>
    /// <remarks>An exception thrown by <paramref name="input"/> itself (a network or storage read failure) surfaces as itself, here
    /// and from <see cref="IMonoAudioSource.Read"/>, never as <see cref="MediaDecodeException"/>: it says nothing about the media,
    /// and the caller may retry it.</remarks>
    /// <exception cref="MediaDecodeException">Unknown or unsupported content, or a corrupt header.</exception>
    public static IMonoAudioSource Open(Stream input, DecodeOptions? options = null)
    {
        options ??= DecodeOptions.Default;
        var (decoder, source) = OpenTagged(input, options);
        try
        {
            return new SourceFaultGuard(new MonoSource(decoder, options), source);
        }
        catch (Exception) when (source.Fault is not null)
        {
            decoder.Dispose();
            source.ThrowIfFaulted();
            throw;
        }
        catch
        {
            decoder.Dispose();
            throw;
        }
    }

    public static IMonoAudioSource OpenFile(string path, DecodeOptions? options = null)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MediaDecodeException($"cannot open the file: {e.Message}", e);
        }
        return Open(fs, options);
    }

    /// <summary>Sniffs and opens the format decoder (native rate and channels). Internal so tests can compare decoders with ffmpeg exactly.</summary>
    internal static PcmDecoder OpenDecoder(Stream raw, DecodeOptions options) => OpenTagged(raw, options).Decoder;

    private static (PcmDecoder Decoder, SourceStream Source) OpenTagged(Stream raw, DecodeOptions options)
    {
        if (raw.CanSeek)
        {
            long length = raw.Length - raw.Position;
            if (length > options.MaxBytes)
            {
                raw.Dispose();
                throw new MediaDecodeException($"input is larger than the limit of {options.MaxBytes:N0} bytes (DecodeOptions.MaxBytes)");
            }
        }
        var source = new SourceStream(raw);
        var input = new InputStream(source, options.MaxBytes);
        try
        {
            return (Sniff(input, options), source);
        }
        catch (Exception e)
        {
            input.Dispose();
            source.ThrowIfFaulted(); // the input failed to read (transient): not a verdict on the media
            if (e is MediaDecodeException) throw;
            // Library code may throw anything on hostile headers; callers get one exception type with a reason.
            throw new MediaDecodeException($"cannot decode the input ({e.GetType().Name}: {e.Message})", e);
        }
    }

    private static PcmDecoder Sniff(InputStream input, DecodeOptions options)
    {
        var head = input.Peek(SniffBytes);
        if (head.IsEmpty) throw new MediaDecodeException("empty input");
        if (head.Length < 4) throw new MediaDecodeException($"input of {head.Length} byte(s) is too short to be media");

        if (head.Length >= 10 && head.StartsWith("ID3"u8))
        {
            // ID3v2 tag (MP3, sometimes FLAC): skip it and sniff what follows. Size is 4 syncsafe 7-bit bytes.
            long size = 10 + (head[6] << 21 | head[7] << 14 | head[8] << 7 | head[9]) + ((head[5] & 0x10) != 0 ? 10 : 0);
            var after = PeekAfter(input, size);
            if (after.StartsWith("fLaC"u8)) { input.Skip(size); return new FlacDecoder(input); }
            // Free format (no stated frame length) cannot be cut into frames here: ffmpeg takes it.
            if (MpegFrameHeader.TryParse(after) is { IsFreeFormat: false } || after.Length == 0) return new Mp3Decoder(input); // its frame reader skips the tag
        }
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WAVE"u8) && WavDecoder.IsSupportedEncoding(head))
            return new WavDecoder(input);
        if (head.StartsWith("fLaC"u8)) return new FlacDecoder(input);
        if (head.StartsWith("OggS"u8) && head.Length >= 27)
        {
            int segs = head[26], start = 27 + segs;
            var first = head.Length > start ? head[start..] : [];
            if (first.StartsWith("\x01vorbis"u8)) return new VorbisDecoder(input);
            if (first.StartsWith("OpusHead"u8)) return new OpusDecoder(input);
            // Other Ogg codecs (Speex, FLAC-in-Ogg, Theora+audio) go to ffmpeg below.
        }
        if (IsMpegAudioSync(head) && IsMpegAudioSync(SecondFrame(head))) return new Mp3Decoder(input);

        if (NonMedia(head) is { } kind) throw new MediaDecodeException($"not a media file ({kind})");
        string? ffmpeg = FfmpegDecoder.Locate(options);
        if (ffmpeg == null)
            throw new MediaDecodeException($"unsupported format ({Describe(head)}); install ffmpeg to decode it" +
                                           (options.FfmpegPath != null ? $" (configured ffmpeg path '{options.FfmpegPath}' does not exist)" : ""));
        bool isoBmff = head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8);
        return new FfmpegDecoder(ffmpeg, input, needsSeek: isoBmff, options);
    }

    private static ReadOnlySpan<byte> PeekAfter(InputStream input, long offset)
    {
        if (offset > 1 << 20) return []; // absurd tag size: let the MP3 decoder judge
        var all = input.Peek((int)offset + 512);
        return all.Length > offset ? all[(int)offset..] : [];
    }

    /// <summary>MPEG-1/2/2.5 Layer I-III frame header with valid bitrate and rate fields (ADTS AAC has layer bits 00 and is excluded).</summary>
    private static bool IsMpegAudioSync(ReadOnlySpan<byte> h) => MpegFrameHeader.TryParse(h) != null;

    /// <summary>The bytes where the frame after the first MPEG audio frame header should start, to confirm the sync.</summary>
    private static ReadOnlySpan<byte> SecondFrame(ReadOnlySpan<byte> h)
    {
        int len = MpegFrameHeader.TryParse(h)?.Length ?? 0; // 0 for free format: not confirmable here
        return len > 0 && h.Length > len + 4 ? h[len..] : [];
    }

    /// <summary>Common non-media files, refused without starting ffmpeg.</summary>
    private static string? NonMedia(ReadOnlySpan<byte> h)
    {
        if (h.StartsWith("%PDF"u8)) return "PDF document";
        if (h.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47])) return "PNG image"; // not "\x89PNG"u8: C# \x89 is U+0089, two UTF-8 bytes
        if (h.StartsWith("PK\x03\x04"u8) || h.StartsWith("PK\x05\x06"u8)) return "ZIP archive";
        if (h.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "JPEG image";
        if (h.StartsWith("GIF8"u8)) return "GIF image";
        if (h.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B])) return "gzip archive";
        if (h.StartsWith((ReadOnlySpan<byte>)[0x7F, 0x45, 0x4C, 0x46])) return "executable";
        if (LooksLikeText(h)) return "text";
        return null;
    }

    private static bool LooksLikeText(ReadOnlySpan<byte> h)
    {
        // Playlists and subtitles are text that ffmpeg would try to follow: refuse all text.
        foreach (byte b in h)
            if (b < 0x09 || (b > 0x0D && b < 0x20 && b != 0x1B)) return false;
        return true;
    }

    private static string Describe(ReadOnlySpan<byte> h)
    {
        if (h.Length >= 12 && h[4..8].SequenceEqual("ftyp"u8)) return "MP4/M4A/MOV";
        if (h.StartsWith((ReadOnlySpan<byte>)[0x1A, 0x45, 0xDF, 0xA3])) return "Matroska/WebM";
        if (h.StartsWith("#!AMR"u8)) return "AMR";
        if (h.StartsWith("RIFF"u8) && h.Length >= 12) return "RIFF " + System.Text.Encoding.ASCII.GetString(h[8..12]).Trim();
        if (h.StartsWith("OggS"u8)) return "Ogg with a codec other than Vorbis/Opus";
        if (h[0] == 0xFF && (h[1] & 0xF6) == 0xF0) return "ADTS AAC";
        return "unrecognised content, starting " + Convert.ToHexString(h[..Math.Min(8, h.Length)]);
    }
}
