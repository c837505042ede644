using NLayer;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Cuts a forward-only MPEG audio stream into frames. Skips an ID3v2 tag at the start, and anything between frames that is not a
/// frame (ID3v1 or APE tags at the end, damage): after such junk, and for the first frame, a header counts only when another
/// header of the same stream follows it (or the input ends right after it), the usual resync rule. Free-format frames (no
/// stated length) are not cut; the sniffer sends those files to ffmpeg.
/// </summary>
internal sealed class Mp3FrameReader
{
    private readonly InputStream _input;
    private readonly byte[] _buf = new byte[64 * 1024];
    private int _pos, _len;
    private bool _eof, _inSync, _started;
    private MpegFrameHeader _stream; // version, layer and rate every later frame must share

    public Mp3FrameReader(InputStream input) => _input = input;

    /// <summary>Appends the next frame's bytes to <paramref name="sink"/> and returns its header; null at the end of the input.</summary>
    public MpegFrameHeader? Next(List<byte> sink)
    {
        if (!_started) SkipId3v2();
        while (Fill(4) >= 4)
        {
            var span = _buf.AsSpan(_pos, _len - _pos);
            if (MpegFrameHeader.TryParse(span) is { IsFreeFormat: false } h && (!_started || SameStream(h, _stream)))
            {
                int length = h.Length;
                int have = Fill(length + 4);
                span = _buf.AsSpan(_pos, _len - _pos);
                bool fits = have >= length;
                bool confirmed = _inSync
                    || have == length // the input ends with this frame
                    || (have >= length + 4 && MpegFrameHeader.TryParse(span[length..]) is { } next && SameStream(next, h));
                if (fits && confirmed)
                {
                    if (!_started) { _stream = h; _started = true; }
                    _inSync = true;
                    for (int i = 0; i < length; i++) sink.Add(span[i]);
                    _pos += length;
                    return h;
                }
                if (!fits && _eof) { _pos = _len; return null; } // a frame cut short by the end of the input
            }
            _inSync = false;
            _pos++;
        }
        _pos = _len;
        return null;
    }

    private static bool SameStream(MpegFrameHeader a, MpegFrameHeader b) =>
        a.VersionBits == b.VersionBits && a.Layer == b.Layer && a.SampleRateIndex == b.SampleRateIndex;

    private void SkipId3v2()
    {
        if (Fill(10) < 10 || _buf[_pos] != 'I' || _buf[_pos + 1] != 'D' || _buf[_pos + 2] != '3') return;
        long size = 10 + (_buf[_pos + 6] << 21 | _buf[_pos + 7] << 14 | _buf[_pos + 8] << 7 | _buf[_pos + 9]) + ((_buf[_pos + 5] & 0x10) != 0 ? 10 : 0);
        long inBuffer = Math.Min(size, _len - _pos);
        _pos += (int)inBuffer;
        if (size > inBuffer) _input.Skip(size - inBuffer);
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available from _pos unless the input ends; returns how many are.</summary>
    private int Fill(int count)
    {
        if (_len - _pos >= count || _eof) return _len - _pos;
        Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
        _len -= _pos;
        _pos = 0;
        while (_len < count && !_eof)
        {
            int n = _input.Read(_buf, _len, _buf.Length - _len);
            if (n == 0) _eof = true;
            _len += n;
        }
        return _len;
    }
}

/// <summary>One frame's bytes as NLayer's <see cref="MpegFrameDecoder"/> reads them: <see cref="ReadBits"/> starts after the header
/// (and CRC) and returns -1 past the end of the frame, which NLayer treats as a short frame.</summary>
internal sealed class Mp3Frame : IMpegFrame
{
    private byte[] _data = [];
    private int _start, _end, _next, _bitsHeld;
    private ulong _bits;
    private MpegFrameHeader _h;

    public void Load(byte[] data, int start, MpegFrameHeader header)
    {
        _data = data;
        _start = start;
        _end = start + header.Length;
        _h = header;
        Reset();
    }

    public int SampleRate => _h.SampleRate;
    public int SampleRateIndex => _h.SampleRateIndex;
    public int FrameLength => _h.Length;
    public int BitRate => _h.BitRateKbps * 1000;
    public MpegVersion Version => _h.VersionBits switch { 3 => MpegVersion.Version1, 2 => MpegVersion.Version2, _ => MpegVersion.Version25 };
    public MpegLayer Layer => (MpegLayer)_h.Layer;
    public MpegChannelMode ChannelMode => (MpegChannelMode)_h.ChannelModeBits;
    public int ChannelModeExtension => _h.ModeExtension;
    public int SampleCount => _h.SampleCount;
    public int BitRateIndex => _h.BitRateIndex;
    public bool IsCopyrighted => _h.Copyright;
    public bool HasCrc => _h.HasCrc;
    public bool IsCorrupted => false;

    public void Reset()
    {
        _next = _start + 4 + (_h.HasCrc ? 2 : 0);
        _bits = 0;
        _bitsHeld = 0;
    }

    public int ReadBits(int bitCount)
    {
        if (bitCount is < 1 or > 32) throw new ArgumentOutOfRangeException(nameof(bitCount));
        while (_bitsHeld < bitCount)
        {
            if (_next >= _end) return -1;
            _bits = (_bits << 8) | _data[_next++];
            _bitsHeld += 8;
        }
        _bitsHeld -= bitCount;
        return (int)((_bits >> _bitsHeld) & ((1UL << bitCount) - 1));
    }
}
