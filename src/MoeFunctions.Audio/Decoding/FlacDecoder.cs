using System.Buffers.Binary;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Streaming FLAC decoder (no managed FLAC package is on the registry). Implements the whole format of RFC 9639 as far
/// as decoding needs: STREAMINFO, fixed and variable block sizes, constant/verbatim/fixed/LPC subframes, wasted bits,
/// Rice partitions with 4- and 5-bit parameters and escape codes, independent/left-side/side-right/mid-side channels,
/// 4 to 32 bits per sample. Header CRC-8 is used to reject false frame syncs; the frame CRC-16 is verified and a
/// mismatch fails the decode. A frame cut off by the end of the input ends the stream, as in ffmpeg.
/// </summary>
internal sealed class FlacDecoder : PcmDecoder
{
    private static readonly byte[] Crc8Table = BuildCrc8();
    private static readonly ushort[] Crc16Table = BuildCrc16();
    private readonly InputStream _input;
    private readonly FlacBitReader _br;
    private readonly int _rate, _channels, _bps, _maxBlock;
    private readonly long _totalSamples;
    private long[][] _samples;
    private readonly long[] _coefs = new long[32];
    private int _blockLen, _blockPos; // decoded frames waiting and the read position in them
    private readonly float _scale;
    private bool _ended;
    private long _frameIndex;

    public override string Format => "flac";
    public override string DecoderName => "MoeFunctions FLAC decoder";
    public override int SampleRate => _rate;
    public override int Channels => _channels;
    public override double? DurationSeconds => _totalSamples > 0 ? _totalSamples / (double)_rate : null;
    public int BitsPerSample => _bps;

    public FlacDecoder(InputStream input)
    {
        _input = input;
        Span<byte> magic = stackalloc byte[4];
        if (input.ReadFull(magic) < 4 || !magic.SequenceEqual("fLaC"u8)) throw new MediaDecodeException("flac: missing fLaC marker");
        Span<byte> blockHeader = stackalloc byte[4];
        bool haveInfo = false, last;
        do
        {
            if (input.ReadFull(blockHeader) < 4) throw new MediaDecodeException("flac: truncated metadata");
            last = (blockHeader[0] & 0x80) != 0;
            int type = blockHeader[0] & 0x7F;
            int len = blockHeader[1] << 16 | blockHeader[2] << 8 | blockHeader[3];
            if (type == 127) throw new MediaDecodeException("flac: invalid metadata block type 127");
            if (type == 0)
            {
                if (haveInfo) throw new MediaDecodeException("flac: second STREAMINFO block");
                if (len != 34) throw new MediaDecodeException($"flac: STREAMINFO of length {len}, expected 34");
                var si = new byte[34].AsSpan();
                if (input.ReadFull(si) < 34) throw new MediaDecodeException("flac: truncated STREAMINFO");
                _maxBlock = BinaryPrimitives.ReadUInt16BigEndian(si[2..]);
                ulong packed = BinaryPrimitives.ReadUInt64BigEndian(si[10..]);
                _rate = (int)(packed >> 44);
                _channels = (int)((packed >> 41) & 7) + 1;
                _bps = (int)((packed >> 36) & 31) + 1;
                _totalSamples = (long)(packed & 0xFFFFFFFFFUL);
                haveInfo = true;
            }
            else if (input.Skip(len) < len) throw new MediaDecodeException("flac: truncated metadata block");
        } while (!last);
        if (!haveInfo) throw new MediaDecodeException("flac: no STREAMINFO block");
        CheckLayout("flac", _rate, _channels);
        if (_bps < 4) throw new MediaDecodeException($"flac: invalid bits per sample {_bps}");
        _scale = (float)(1.0 / (1L << (_bps - 1)));
        _samples = new long[_channels][];
        for (int c = 0; c < _channels; c++) _samples[c] = new long[Math.Max(_maxBlock, 16)];
        _br = new FlacBitReader(input);
    }

    public override int ReadFrames(Span<float> interleaved)
    {
        while (_blockPos >= _blockLen)
        {
            if (_ended || !DecodeFrame()) { _ended = true; return 0; }
        }
        int n = Math.Min(interleaved.Length / _channels, _blockLen - _blockPos);
        for (int c = 0; c < _channels; c++)
        {
            var src = _samples[c].AsSpan(_blockPos, n);
            for (int i = 0, j = c; i < src.Length; i++, j += _channels) interleaved[j] = src[i] * _scale;
        }
        _blockPos += n;
        return n;
    }

    /// <summary>Decodes the next frame into <see cref="_samples"/>; false at the end of the stream.</summary>
    private bool DecodeFrame()
    {
        while (true)
        {
            if (!FindSync()) return false;
            try
            {
                if (!TryReadHeader(out int blockSize, out int assignment, out int bps))
                {
                    _br.RewindTo(_br.MarkPosition + 1); // a false sync inside garbage: keep searching after it
                    continue;
                }
                DecodeSubframes(blockSize, assignment, bps);
                _br.AlignToByte();
                uint stored = _br.ReadBits(16);
                int crcEnd = _br.BytePosition - 2; // after the read: reading may compact the buffer
                if (Crc16(_br.Buffer.AsSpan(_br.MarkPosition, crcEnd - _br.MarkPosition)) != stored)
                    throw new MediaDecodeException($"flac: CRC-16 mismatch in frame {_frameIndex} (corrupt data)");
                _frameIndex++;
                _blockLen = blockSize;
                _blockPos = 0;
                return true;
            }
            catch (EndOfStreamException)
            {
                return false; // the input stops inside this frame
            }
        }
    }

    private bool FindSync()
    {
        _br.AlignToByte();
        while (true)
        {
            _br.Mark();
            if (_br.AtEnd()) return false;
            uint b;
            try { b = _br.ReadBits(8); } catch (EndOfStreamException) { return false; }
            if (b != 0xFF) continue;
            try
            {
                uint b2 = _br.ReadBits(8);
                if ((b2 & 0xFE) == 0xF8) return true;
                _br.RewindTo(_br.MarkPosition + 1);
            }
            catch (EndOfStreamException) { return false; }
        }
    }

    private bool TryReadHeader(out int blockSize, out int assignment, out int bps)
    {
        blockSize = 0; assignment = 0; bps = 0;
        uint bsCode = _br.ReadBits(4), rateCode = _br.ReadBits(4);
        assignment = (int)_br.ReadBits(4);
        uint sizeCode = _br.ReadBits(3);
        if (_br.ReadBits(1) != 0 || rateCode == 15 || sizeCode == 3 || assignment > 10 || bsCode == 0) return false;
        // Coded frame or sample number (UTF-8-like); only its validity matters here.
        uint first = _br.ReadBits(8);
        int extra = first < 0x80 ? 0 : first >= 0xFE ? 6 : first >= 0xFC ? 5 : first >= 0xF8 ? 4 : first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : first >= 0xC0 ? 1 : -1;
        if (extra < 0) return false;
        for (int i = 0; i < extra; i++) if ((_br.ReadBits(8) & 0xC0) != 0x80) return false;
        blockSize = bsCode switch
        {
            1 => 192,
            <= 5 => 576 << (int)(bsCode - 2),
            6 => (int)_br.ReadBits(8) + 1,
            7 => (int)_br.ReadBits(16) + 1,
            _ => 256 << (int)(bsCode - 8),
        };
        if (rateCode == 12) _br.ReadBits(8);
        else if (rateCode is 13 or 14) _br.ReadBits(16);
        uint crc8 = _br.ReadBits(8);
        int headerEnd = _br.BytePosition - 1; // after the read: reading may compact the buffer
        if (Crc8(_br.Buffer.AsSpan(_br.MarkPosition, headerEnd - _br.MarkPosition)) != crc8) return false;
        bps = sizeCode switch { 0 => _bps, 1 => 8, 2 => 12, 4 => 16, 5 => 20, 6 => 24, _ => 32 };
        int frameChannels = assignment < 8 ? assignment + 1 : 2;
        if (frameChannels != _channels)
            throw new MediaDecodeException($"flac: frame {_frameIndex} has {frameChannels} channels, STREAMINFO says {_channels}");
        if (bps != _bps) throw new MediaDecodeException($"flac: frame {_frameIndex} has {bps} bits per sample, STREAMINFO says {_bps}");
        if (blockSize > _samples[0].Length)
            for (int c = 0; c < _channels; c++) _samples[c] = new long[blockSize];
        return true;
    }

    private void DecodeSubframes(int blockSize, int assignment, int bps)
    {
        for (int c = 0; c < _channels; c++)
        {
            bool side = (assignment == 8 && c == 1) || (assignment == 9 && c == 0) || (assignment == 10 && c == 1);
            DecodeSubframe(_samples[c].AsSpan(0, blockSize), bps + (side ? 1 : 0));
        }
        if (assignment < 8) return;
        Span<long> a = _samples[0].AsSpan(0, blockSize), b = _samples[1].AsSpan(0, blockSize);
        switch (assignment)
        {
            case 8: for (int i = 0; i < a.Length; i++) b[i] = a[i] - b[i]; break;          // left, side -> right
            case 9: for (int i = 0; i < a.Length; i++) a[i] += b[i]; break;                 // side, right -> left
            default:
                for (int i = 0; i < a.Length; i++)
                {
                    long mid = (a[i] << 1) | (b[i] & 1), sideV = b[i];
                    a[i] = (mid + sideV) >> 1;
                    b[i] = (mid - sideV) >> 1;
                }
                break;
        }
    }

    private void DecodeSubframe(Span<long> dst, int bps)
    {
        if (_br.ReadBits(1) != 0) throw new MediaDecodeException($"flac: invalid subframe padding in frame {_frameIndex}");
        int type = (int)_br.ReadBits(6);
        int wasted = 0;
        if (_br.ReadBits(1) == 1)
        {
            wasted = _br.ReadUnary() + 1;
            if (wasted >= bps) throw new MediaDecodeException($"flac: {wasted} wasted bits of {bps} in frame {_frameIndex}");
            bps -= wasted;
        }
        if (type == 0)
        {
            dst.Fill(_br.ReadSignedLong(bps));
        }
        else if (type == 1)
        {
            for (int i = 0; i < dst.Length; i++) dst[i] = _br.ReadSignedLong(bps);
        }
        else if (type is >= 8 and <= 12)
        {
            int order = type - 8;
            ReadWarmup(dst, order, bps);
            ReadResidual(dst, order);
            RestoreFixed(dst, order);
        }
        else if (type >= 32)
        {
            int order = type - 31;
            ReadWarmup(dst, order, bps);
            int precision = (int)_br.ReadBits(4) + 1;
            if (precision == 16) throw new MediaDecodeException($"flac: invalid LPC precision in frame {_frameIndex}");
            int shift = _br.ReadSigned(5);
            if (shift < 0) throw new MediaDecodeException($"flac: negative LPC shift in frame {_frameIndex}");
            for (int i = 0; i < order; i++) _coefs[i] = _br.ReadSigned(precision);
            ReadResidual(dst, order);
            RestoreLpc(dst, _coefs.AsSpan(0, order), shift);
        }
        else throw new MediaDecodeException($"flac: reserved subframe type {type} in frame {_frameIndex}");
        if (wasted > 0) foreach (ref long s in dst) s <<= wasted;
    }

    private void ReadWarmup(Span<long> dst, int order, int bps)
    {
        if (order > dst.Length) throw new MediaDecodeException($"flac: predictor order {order} exceeds block size {dst.Length} in frame {_frameIndex}");
        for (int i = 0; i < order; i++) dst[i] = _br.ReadSignedLong(bps);
    }

    private void ReadResidual(Span<long> dst, int order)
    {
        uint method = _br.ReadBits(2);
        if (method > 1) throw new MediaDecodeException($"flac: reserved residual coding method in frame {_frameIndex}");
        int paramBits = method == 0 ? 4 : 5, escape = (1 << paramBits) - 1;
        int partitionOrder = (int)_br.ReadBits(4);
        int partitions = 1 << partitionOrder;
        if (dst.Length % partitions != 0 || (dst.Length >> partitionOrder) < order)
            throw new MediaDecodeException($"flac: residual partition order {partitionOrder} does not fit block size {dst.Length} in frame {_frameIndex}");
        int per = dst.Length >> partitionOrder;
        int pos = order;
        for (int p = 0; p < partitions; p++)
        {
            int count = p == 0 ? per - order : per;
            int k = (int)_br.ReadBits(paramBits);
            var part = dst.Slice(pos, count);
            if (k == escape)
            {
                int raw = (int)_br.ReadBits(5);
                for (int i = 0; i < part.Length; i++) part[i] = _br.ReadSignedLong(raw);
            }
            else _br.ReadRice(part, k);
            pos += count;
        }
    }

    private static void RestoreFixed(Span<long> s, int order)
    {
        switch (order)
        {
            case 1: for (int i = 1; i < s.Length; i++) s[i] += s[i - 1]; break;
            case 2: for (int i = 2; i < s.Length; i++) s[i] += 2 * s[i - 1] - s[i - 2]; break;
            case 3: for (int i = 3; i < s.Length; i++) s[i] += 3 * s[i - 1] - 3 * s[i - 2] + s[i - 3]; break;
            case 4: for (int i = 4; i < s.Length; i++) s[i] += 4 * s[i - 1] - 6 * s[i - 2] + 4 * s[i - 3] - s[i - 4]; break;
        }
    }

    private static void RestoreLpc(Span<long> s, ReadOnlySpan<long> coefs, int shift)
    {
        int order = coefs.Length;
        if (order == 8)
        {
            // The common case (flac -5 and ffmpeg default use order 8): unrolled.
            long c0 = coefs[0], c1 = coefs[1], c2 = coefs[2], c3 = coefs[3], c4 = coefs[4], c5 = coefs[5], c6 = coefs[6], c7 = coefs[7];
            for (int i = 8; i < s.Length; i++)
                s[i] += (c0 * s[i - 1] + c1 * s[i - 2] + c2 * s[i - 3] + c3 * s[i - 4] + c4 * s[i - 5] + c5 * s[i - 6] + c6 * s[i - 7] + c7 * s[i - 8]) >> shift;
            return;
        }
        for (int i = order; i < s.Length; i++)
        {
            long sum = 0;
            for (int j = 0; j < order; j++) sum += coefs[j] * s[i - 1 - j];
            s[i] += sum >> shift;
        }
    }

    private static byte Crc8(ReadOnlySpan<byte> data)
    {
        byte crc = 0;
        foreach (byte b in data) crc = Crc8Table[crc ^ b];
        return crc;
    }

    private static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (byte b in data) crc = (ushort)((crc << 8) ^ Crc16Table[(crc >> 8) ^ b]);
        return crc;
    }

    private static byte[] BuildCrc8()
    {
        var t = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            int r = i;
            for (int k = 0; k < 8; k++) r = (r & 0x80) != 0 ? (r << 1) ^ 0x07 : r << 1;
            t[i] = (byte)r;
        }
        return t;
    }

    private static ushort[] BuildCrc16()
    {
        var t = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int r = i << 8;
            for (int k = 0; k < 8; k++) r = (r & 0x8000) != 0 ? (r << 1) ^ 0x8005 : r << 1;
            t[i] = (ushort)r;
        }
        return t;
    }

    public override void Dispose() => _input.Dispose();
}
