using System.Buffers;
using System.Buffers.Binary;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Streaming RIFF/WAVE reader: PCM 8/16/24/32-bit, IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format.
/// Written here rather than NAudio's WaveFileReader because that one seeks, and blob streams are forward-only.
/// Chunk sizes are never trusted for allocation: a data chunk that claims more than the input holds is read to the end of input.
/// </summary>
internal sealed class WavDecoder : PcmDecoder
{
    private const ushort TagPcm = 1, TagFloat = 3, TagExtensible = 0xFFFE;
    private readonly InputStream _input;
    private readonly int _bytesPerSample;
    private readonly bool _float;
    private readonly int _channels, _rate;
    private long _dataLeft; // -1 = to end of input
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _carry; // bytes of an incomplete frame kept from the last read
    private readonly double? _duration;

    public override string Format => "wav";
    public override string DecoderName => "MoeFunctions WAV reader";
    public override int SampleRate => _rate;
    public override int Channels => _channels;
    public override double? DurationSeconds => _duration;

    /// <summary>The encoding tag of the fmt chunk, if the peeked header holds one (used to route unusual WAV codecs to ffmpeg).</summary>
    public static bool IsSupportedEncoding(ReadOnlySpan<byte> head)
    {
        int pos = 12;
        while (pos + 8 <= head.Length)
        {
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(pos + 4));
            if (head.Slice(pos, 4).SequenceEqual("fmt "u8))
            {
                if (pos + 10 > head.Length) return true; // let the decoder report the truncation
                ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(head.Slice(pos + 8));
                if (tag is TagPcm or TagFloat) return true;
                if (tag != TagExtensible) return false;
                if (pos + 8 + 26 > head.Length) return true;
                ushort sub = BinaryPrimitives.ReadUInt16LittleEndian(head.Slice(pos + 8 + 24));
                return sub is TagPcm or TagFloat;
            }
            if (size > int.MaxValue) return true;
            pos += 8 + (int)size + (int)(size & 1);
        }
        return true;
    }

    public WavDecoder(InputStream input)
    {
        _input = input;
        Span<byte> hdr = stackalloc byte[12];
        if (input.ReadFull(hdr) < 12) throw new MediaDecodeException("wav: truncated RIFF header");
        Span<byte> chunk = stackalloc byte[8];
        bool haveFmt = false;
        ushort tag = 0, bits = 0, blockAlign = 0;
        while (true)
        {
            if (input.ReadFull(chunk) < 8)
                throw new MediaDecodeException(haveFmt ? "wav: no data chunk (file truncated?)" : "wav: no fmt chunk (file truncated?)");
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("fmt "u8))
            {
                if (size < 16 || size > 4096) throw new MediaDecodeException($"wav: fmt chunk of invalid size {size}");
                var fmt = new byte[size + (size & 1)];
                if (input.ReadFull(fmt) < fmt.Length) throw new MediaDecodeException("wav: truncated fmt chunk");
                tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                _channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt.AsSpan(2));
                _rate = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(fmt.AsSpan(4)), int.MaxValue);
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(fmt.AsSpan(12));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt.AsSpan(14));
                if (tag == TagExtensible)
                {
                    if (size < 40) throw new MediaDecodeException("wav: WAVE_FORMAT_EXTENSIBLE header too short");
                    tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt.AsSpan(24));
                }
                haveFmt = true;
            }
            else if (chunk[..4].SequenceEqual("data"u8))
            {
                if (!haveFmt) throw new MediaDecodeException("wav: data chunk before fmt chunk");
                _dataLeft = size is 0 or uint.MaxValue ? -1 : size;
                break;
            }
            else
            {
                long skip = size + (size & 1);
                if (input.Skip(skip) < skip) throw new MediaDecodeException($"wav: truncated chunk '{Printable(chunk[..4])}'");
            }
        }
        CheckLayout("wav", _rate, _channels);
        if (tag is not (TagPcm or TagFloat)) throw new MediaDecodeException($"wav: unsupported encoding tag {tag}");
        _float = tag == TagFloat;
        if (blockAlign == 0 || blockAlign % _channels != 0)
            throw new MediaDecodeException($"wav: block align {blockAlign} does not fit {_channels} channels");
        _bytesPerSample = blockAlign / _channels;
        if (_float ? _bytesPerSample is not (4 or 8) : _bytesPerSample is < 1 or > 4)
            throw new MediaDecodeException($"wav: unsupported sample size {_bytesPerSample * 8} bits ({(_float ? "float" : "PCM")}, {bits} bits declared)");
        if (_dataLeft > 0) _duration = _dataLeft / (double)blockAlign / _rate;
    }

    private static string Printable(ReadOnlySpan<byte> id) =>
        new(id.ToArray().Select(b => b is >= 32 and < 127 ? (char)b : '?').ToArray());

    public override int ReadFrames(Span<float> interleaved)
    {
        int frameBytes = _bytesPerSample * _channels;
        int maxFrames = Math.Min(interleaved.Length / _channels, _buffer.Length / frameBytes);
        if (maxFrames == 0) return 0;
        int want = maxFrames * frameBytes - _carry;
        if (_dataLeft >= 0) want = (int)Math.Min(want, _dataLeft);
        int got = want > 0 ? _input.Read(_buffer.AsSpan(_carry, want)) : 0;
        if (_dataLeft >= 0) _dataLeft -= got;
        int total = _carry + got;
        int frames = total / frameBytes;
        if (frames == 0)
        {
            _carry = total;
            // Keep reading until a whole frame or the end; an incomplete final frame is dropped as ffmpeg does.
            return got == 0 ? 0 : ReadFrames(interleaved);
        }
        Convert(_buffer.AsSpan(0, frames * frameBytes), interleaved[..(frames * _channels)]);
        _carry = total - frames * frameBytes;
        if (_carry > 0) _buffer.AsSpan(frames * frameBytes, _carry).CopyTo(_buffer);
        return frames;
    }

    private void Convert(ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (_bytesPerSample, _float)
        {
            case (1, false):
                for (int i = 0; i < dst.Length; i++) dst[i] = (src[i] - 128) * (1f / 128);
                break;
            case (2, false):
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]) * (1f / 32768);
                break;
            case (3, false):
                for (int i = 0, j = 0; i < dst.Length; i++, j += 3)
                    dst[i] = ((src[j] << 8 | src[j + 1] << 16 | src[j + 2] << 24) >> 8) * (1f / 8388608);
                break;
            case (4, false):
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)(BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]) * (1.0 / 2147483648.0));
                break;
            case (4, true):
                for (int i = 0; i < dst.Length; i++) dst[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            default:
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
        }
    }

    public override void Dispose()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _input.Dispose();
    }
}
