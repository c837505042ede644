using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// MSB-first bit reader over a forward-only stream with a 64-bit cache. The bytes of the current frame (from <see cref="Mark"/>)
/// stay contiguous in the buffer, so the frame's CRCs can be computed over them once it is decoded.
/// </summary>
internal sealed class FlacBitReader
{
    private const int MaxBuffer = 32 << 20; // one frame may be large (65535 samples x 8 channels x 32 bits = 2 MiB); this bounds hostile ones
    private readonly InputStream _input;
    private byte[] _buf = new byte[1 << 16];
    private int _len, _pos;   // _pos: next byte to load into the cache
    private ulong _cache;     // unread bits left-aligned; bits below the counted ones are valid stream bits or zero
    private int _bits;        // counted unread bits in the cache
    private int _mark;
    private bool _eof;

    public FlacBitReader(InputStream input) => _input = input;

    public byte[] Buffer => _buf;

    /// <summary>Byte index (in <see cref="Buffer"/>) of the next unread byte; only meaningful when byte-aligned.</summary>
    public int BytePosition => _pos - (_bits >> 3);

    public bool IsByteAligned => (_bits & 7) == 0;

    /// <summary>Keeps the buffer's bytes from the current position onward until the next mark.</summary>
    public int Mark() => _mark = BytePosition;

    /// <summary>Buffer index of the marked byte; it moves when the buffer is compacted, so read it after reading.</summary>
    public int MarkPosition => _mark;

    /// <summary>True when no byte is left in the input.</summary>
    public bool AtEnd()
    {
        if (_bits >= 8) return false;
        if (_pos < _len) return false;
        return !FillBuffer();
    }

    /// <summary>Restarts reading at buffer index <paramref name="bytePos"/> (at or after the mark), dropping the cache.</summary>
    public void RewindTo(int bytePos)
    {
        _pos = bytePos;
        _cache = 0;
        _bits = 0;
    }

    private bool FillBuffer()
    {
        if (_eof) return false;
        if (_mark > 0)
        {
            // Keep the frame's bytes; everything before the mark is finished.
            int keepFrom = Math.Min(_mark, _pos);
            _buf.AsSpan(keepFrom, _len - keepFrom).CopyTo(_buf);
            _len -= keepFrom;
            _pos -= keepFrom;
            _mark -= keepFrom;
        }
        if (_len == _buf.Length)
        {
            if (_buf.Length >= MaxBuffer) throw new MediaDecodeException($"flac: frame larger than {MaxBuffer >> 20} MiB (corrupt data)");
            Array.Resize(ref _buf, _buf.Length * 2);
        }
        int r = _input.Read(_buf.AsSpan(_len));
        if (r == 0) { _eof = true; return false; }
        _len += r;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Refill()
    {
        if (_pos + 8 <= _len)
        {
            ulong v = BinaryPrimitives.ReadUInt64BigEndian(_buf.AsSpan(_pos));
            int n = (64 - _bits) >> 3;
            _cache |= v >> _bits;
            _pos += n;
            _bits += n << 3;
        }
        else RefillSlow();
    }

    private void RefillSlow()
    {
        while (_bits <= 56)
        {
            if (_pos >= _len && !FillBuffer()) return;
            _cache |= (ulong)_buf[_pos++] << (56 - _bits);
            _bits += 8;
        }
    }

    /// <summary>Reads 1..32 bits as an unsigned value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadBits(int n)
    {
        if (n == 0) return 0;
        if (_bits < n)
        {
            Refill();
            if (_bits < n) throw new EndOfStreamException();
        }
        uint v = (uint)(_cache >> (64 - n));
        _cache <<= n;
        _bits -= n;
        return v;
    }

    public int ReadSigned(int n) => n == 0 ? 0 : (int)(ReadBits(n) << (32 - n)) >> (32 - n);

    public long ReadSignedLong(int n)
    {
        if (n <= 32) return n == 0 ? 0 : ((long)ReadBits(n) << (64 - n)) >> (64 - n);
        long hi = ReadBits(n - 32);
        long v = (hi << 32) | ReadBits(32);
        return (v << (64 - n)) >> (64 - n);
    }

    /// <summary>Counts zero bits up to the next one bit and consumes them and the one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadUnary()
    {
        int count = 0;
        while (true)
        {
            if (_bits == 0)
            {
                Refill();
                if (_bits == 0) throw new EndOfStreamException();
            }
            int lz = BitOperations.LeadingZeroCount(_cache);
            if (lz < _bits)
            {
                _cache <<= lz + 1; // lz + 1 <= 64 only when lz = 63 and bits = 64: shift by 64 is a no-op in C#, so handle it
                if (lz == 63) _cache = 0;
                _bits -= lz + 1;
                return count + lz;
            }
            count += _bits;
            if (count > 1 << 24) throw new MediaDecodeException("flac: runaway unary code (corrupt data)");
            _cache = 0;
            _bits = 0;
        }
    }

    /// <summary>Decodes <paramref name="dst"/>.Length Rice-coded signed residuals with parameter <paramref name="k"/>.</summary>
    public void ReadRice(Span<long> dst, int k)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            uint q = (uint)ReadUnary();
            uint v = (q << k) | ReadBits(k);
            dst[i] = (long)(v >> 1) ^ -(long)(v & 1);
        }
    }

    public void AlignToByte() => ReadBits(_bits & 7);
}
