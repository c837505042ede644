using NLayer;

namespace MoeFunctions.Audio.Decoding;

/// <summary>MP3 through NLayer. NLayer's output starts 529 samples later than ffmpeg's (decoder delay of the
/// synthesis filter bank, measured: DESIGN.md section 5); those samples are dropped so timings match ffmpeg's decode.
/// Like ffmpeg, the encoder delay and padding of a LAME/Info tag are honoured too (gapless): NLayer skips the tag frame but
/// not the encoder's delay, so without this LAME files would be 576 samples late.
/// Stereo is mixed to mono inside NLayer (<see cref="StereoMode.DownmixToMono"/>): it averages the two channels' spectra before the
/// hybrid and polyphase synthesis, which are linear, so they run once instead of twice (1.7x faster; the same samples as
/// decoding both channels and averaging them to within 7e-7, docs/audio.md).</summary>
internal sealed class Mp3Decoder : PcmDecoder
{
    internal const int NLayerDelay = 529;
    private readonly MpegFile _mpeg;
    private readonly InputStream _input;
    private float[] _scratch = [];
    private int _toSkip;
    private long _left = long.MaxValue; // samples (all channels) still allowed before the LAME padding

    public override string Format => "mp3";
    public override string DecoderName => "NLayer";
    public override int SampleRate { get; }
    public override int Channels { get; }
    public override int SourceChannels { get; }

    public Mp3Decoder(InputStream input, ReadOnlySpan<byte> firstFrame)
    {
        _input = input;
        try
        {
            _mpeg = new MpegFile(input);
            SampleRate = _mpeg.SampleRate;
            SourceChannels = Channels = _mpeg.Channels;
            if (Channels == 2)
            {
                _mpeg.StereoMode = StereoMode.DownmixToMono;
                Channels = 1;
            }
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            throw new MediaDecodeException($"mp3: no valid MPEG audio frame found ({e.Message})", e);
        }
        CheckLayout("mp3", SampleRate, Channels);
        _toSkip = NLayerDelay * Channels;
        if (ParseLameTag(firstFrame) is var (delay, padding, frames))
        {
            _toSkip += delay * Channels;
            int perFrame = (firstFrame[1] & 0x18) == 0x18 ? 1152 : 576;
            if (frames > 0) _left = Math.Max(0, frames * perFrame - delay - padding) * (long)Channels;
        }
    }

    /// <summary>Encoder delay, padding and frame count from a Xing/Info frame carrying a LAME extension (as written by LAME and ffmpeg).</summary>
    internal static (int Delay, int Padding, long Frames)? ParseLameTag(ReadOnlySpan<byte> f)
    {
        if (f.Length < 4 || f[0] != 0xFF || (f[1] & 0xE0) != 0xE0) return null;
        bool mpeg1 = (f[1] & 0x18) == 0x18, mono = f[3] >> 6 == 3;
        int p = 4 + (mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17));
        if (f.Length < p + 8 || !(f.Slice(p, 4).SequenceEqual("Xing"u8) || f.Slice(p, 4).SequenceEqual("Info"u8))) return null;
        uint flags = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f[(p + 4)..]);
        p += 8;
        long frames = 0;
        if ((flags & 1) != 0) { if (f.Length < p + 4) return null; frames = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f[p..]); p += 4; }
        if ((flags & 2) != 0) p += 4;
        if ((flags & 4) != 0) p += 100;
        if ((flags & 8) != 0) p += 4;
        if (f.Length < p + 24) return null;
        var enc = f.Slice(p, 4);
        if (!(enc.SequenceEqual("LAME"u8) || enc.SequenceEqual("Lavf"u8) || enc.SequenceEqual("Lavc"u8))) return null;
        int delay = f[p + 21] << 4 | f[p + 22] >> 4, padding = (f[p + 22] & 0xF) << 8 | f[p + 23];
        return (delay, padding, frames);
    }

    public override int ReadFrames(Span<float> interleaved)
    {
        int want = interleaved.Length - interleaved.Length % Channels;
        if (_scratch.Length < want) _scratch = new float[want];
        while (true)
        {
            int got;
            try { got = _mpeg.ReadSamples(_scratch, 0, want); }
            catch (Exception e) when (e is not MediaDecodeException)
            {
                throw new MediaDecodeException($"mp3: corrupt stream ({e.Message})", e);
            }
            if (got <= 0 || _left <= 0) return 0;
            int skip = Math.Min(_toSkip, got);
            _toSkip -= skip;
            int keep = (int)Math.Min(got - skip, _left);
            if (skip == got) continue;
            _left -= keep;
            if (keep == 0) continue;
            _scratch.AsSpan(skip, keep).CopyTo(interleaved);
            return keep / Channels;
        }
    }

    public override void Dispose()
    {
        _mpeg.Dispose();
        _input.Dispose();
    }
}
