using System.Buffers.Binary;
using Concentus;

namespace MoeFunctions.Audio.Decoding;

/// <summary>Ogg Opus (RFC 7845) through Concentus at 48 kHz: honours pre-skip, output gain and end trimming by the final granule position.</summary>
/// <remarks>A stereo stream (mapping family 0) goes to a mono decoder, which libopus allows: it mixes the two channels to their
/// mean inside the codec (SILK decodes the mid channel, CELT averages the bands before its inverse MDCT), so the synthesis runs once
/// and our downmix has nothing to do. 1.3x faster than decoding both channels, and within 2.2e-5 of their mean (docs/audio.md).
/// Decoding at 16 kHz would skip the resampler too, but Concentus 2.2.2 returns silence at 16 kHz (and nearly silence at
/// 24 kHz) for low-bit-rate mono speech, so it stays at 48 kHz.</remarks>
internal sealed class OpusDecoder : PcmDecoder
{
    private const int Rate = 48000, MaxFrame = 5760; // 120 ms at 48 kHz
    private readonly InputStream _input;
    private readonly OggPacketReader _ogg;
    private readonly IOpusDecoder? _mono;
    private readonly IOpusMultiStreamDecoder? _multi;
    private readonly int _preSkip;
    private readonly float _gain;
    private readonly float[] _pcm;
    private int _pcmPos, _pcmLen; // frames
    private int _skipLeft;
    private long _emitted;
    private bool _done;

    public override string Format => "ogg-opus";
    public override string DecoderName => "Concentus";
    public override int SampleRate => Rate;
    public override int Channels { get; }
    public override int SourceChannels { get; }

    public OpusDecoder(InputStream input)
    {
        _input = input;
        _ogg = new OggPacketReader(input, "ogg-opus");
        var head = _ogg.NextPacket();
        if (head.Length < 19 || !head[..8].SequenceEqual("OpusHead"u8)) throw new MediaDecodeException("ogg-opus: missing or short OpusHead header");
        if (head[8] >> 4 != 0) throw new MediaDecodeException($"ogg-opus: unsupported OpusHead version {head[8]}");
        SourceChannels = Channels = head[9];
        _preSkip = BinaryPrimitives.ReadUInt16LittleEndian(head[10..]);
        _gain = MathF.Pow(10f, BinaryPrimitives.ReadInt16LittleEndian(head[16..]) / (20f * 256f));
        int family = head[18];
        CheckLayout("ogg-opus", Rate, Channels);
        try
        {
            if (family == 0)
            {
                if (Channels > 2) throw new MediaDecodeException($"ogg-opus: mapping family 0 with {Channels} channels");
                Channels = 1;
                _mono = OpusCodecFactory.CreateDecoder(Rate, 1);
            }
            else
            {
                if (head.Length < 21 + Channels) throw new MediaDecodeException("ogg-opus: truncated channel mapping table");
                int streams = head[19], coupled = head[20];
                if (streams == 0 || coupled > streams) throw new MediaDecodeException($"ogg-opus: invalid stream counts {streams}/{coupled}");
                _multi = OpusCodecFactory.CreateMultiStreamDecoder(Rate, Channels, streams, coupled, head.Slice(21, Channels).ToArray());
            }
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            throw new MediaDecodeException($"ogg-opus: cannot set up the decoder ({e.Message})", e);
        }
        var tags = _ogg.NextPacket();
        if (tags.Length < 8 || !tags[..8].SequenceEqual("OpusTags"u8)) throw new MediaDecodeException("ogg-opus: missing OpusTags header");
        _pcm = new float[MaxFrame * Channels];
        _skipLeft = _preSkip;
    }

    public override int ReadFrames(Span<float> interleaved)
    {
        int maxFrames = interleaved.Length / Channels;
        while (_pcmPos >= _pcmLen)
        {
            if (_done || !DecodeNext()) return 0;
        }
        int n = Math.Min(maxFrames, _pcmLen - _pcmPos);
        _pcm.AsSpan(_pcmPos * Channels, n * Channels).CopyTo(interleaved);
        _pcmPos += n;
        return n;
    }

    private bool DecodeNext()
    {
        var packet = _ogg.NextPacket();
        if (packet.IsEmpty) { _done = true; return false; }
        int frames;
        try
        {
            frames = _mono != null
                ? _mono.Decode(packet, _pcm, MaxFrame, false)
                : _multi!.DecodeMultistream(packet, _pcm, MaxFrame, false);
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            throw new MediaDecodeException($"ogg-opus: corrupt packet ({e.Message})", e);
        }
        if (frames < 0) throw new MediaDecodeException($"ogg-opus: corrupt packet (error {frames})");
        int start = Math.Min(_skipLeft, frames);
        _skipLeft -= start;
        int end = frames;
        if (_ogg.EndOfStream && _ogg.Granule >= 0)
        {
            long allowed = _ogg.Granule - _preSkip - _emitted;
            end = (int)Math.Clamp(start + allowed, start, frames);
            _done = true;
        }
        if (_gain != 1f) foreach (ref float s in _pcm.AsSpan(start * Channels, (end - start) * Channels)) s *= _gain;
        _pcmPos = start;
        _pcmLen = end;
        _emitted += end - start;
        return true;
    }

    public override void Dispose() => _input.Dispose();
}
