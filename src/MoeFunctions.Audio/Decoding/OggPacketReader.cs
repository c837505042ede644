using System.Buffers.Binary;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Minimal forward-only Ogg reader (RFC 3533): checks page CRCs, follows the first logical stream, reassembles packets.
/// Concentus 2.2.2 ships no Ogg reader (that lives in the separate Concentus.Oggfile package), so Opus uses this one.
/// </summary>
internal sealed class OggPacketReader
{
    private const int MaxPacketBytes = 1 << 20; // far above any Opus packet; stops chains of continued pages from growing memory
    private static readonly uint[] CrcTable = BuildCrcTable();
    private readonly InputStream _input;
    private readonly string _format;
    private readonly byte[] _header = new byte[27 + 255];
    private readonly byte[] _body = new byte[255 * 255];
    private int _segCount, _segIndex, _bodyPos;
    private byte[] _partial = new byte[4096];
    private int _partialLen;
    private bool _pageEos;
    private long _pageGranule;
    private int? _serial;
    private bool _ended;

    public OggPacketReader(InputStream input, string format)
    {
        _input = input;
        _format = format;
    }

    /// <summary>Granule position of the page on which the last returned packet ended, or -1 when a packet continues.</summary>
    public long Granule { get; private set; }

    /// <summary>True when the last returned packet is the last one of the stream's final (EOS) page.</summary>
    public bool EndOfStream { get; private set; }

    /// <summary>Next complete packet, or an empty span at the end of the stream. The span stays valid until the next call.</summary>
    public ReadOnlySpan<byte> NextPacket()
    {
        _partialLen = 0;
        while (true)
        {
            if (_segIndex >= _segCount)
            {
                if (_ended || !ReadPage()) return [];
                continue;
            }
            int lace = _header[27 + _segIndex];
            if (_partialLen + lace > MaxPacketBytes) throw new MediaDecodeException($"{_format}: Ogg packet larger than {MaxPacketBytes} bytes");
            if (_partial.Length < _partialLen + lace) Array.Resize(ref _partial, Math.Max(_partial.Length * 2, _partialLen + lace));
            _body.AsSpan(_bodyPos, lace).CopyTo(_partial.AsSpan(_partialLen));
            _partialLen += lace;
            _bodyPos += lace;
            _segIndex++;
            if (lace < 255)
            {
                bool lastOnPage = !HasCompletePacketAfter(_segIndex);
                Granule = lastOnPage ? _pageGranule : -1;
                EndOfStream = lastOnPage && _pageEos;
                return _partial.AsSpan(0, _partialLen);
            }
        }
    }

    private bool HasCompletePacketAfter(int seg)
    {
        for (int i = seg; i < _segCount; i++) if (_header[27 + i] < 255) return true;
        return false;
    }

    private bool ReadPage()
    {
        while (true)
        {
            int n = _input.ReadFull(_header.AsSpan(0, 27));
            if (n == 0) { _ended = true; return false; }
            if (n < 27) { _ended = true; return false; } // cut inside a page header: decode what came before, as ffmpeg does
            if (!_header.AsSpan(0, 4).SequenceEqual("OggS"u8)) throw new MediaDecodeException($"{_format}: lost Ogg page sync (corrupt data)");
            if (_header[4] != 0) throw new MediaDecodeException($"{_format}: unsupported Ogg version {_header[4]}");
            int segs = _header[26];
            if (_input.ReadFull(_header.AsSpan(27, segs)) < segs) { _ended = true; return false; }
            int bodyLen = 0;
            for (int i = 0; i < segs; i++) bodyLen += _header[27 + i];
            if (_input.ReadFull(_body.AsSpan(0, bodyLen)) < bodyLen) { _ended = true; return false; }
            uint stored = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(22));
            _header[22] = _header[23] = _header[24] = _header[25] = 0;
            uint crc = Crc(Crc(0, _header.AsSpan(0, 27 + segs)), _body.AsSpan(0, bodyLen));
            if (crc != stored) throw new MediaDecodeException($"{_format}: Ogg page checksum mismatch (corrupt data)");
            int serial = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(14));
            _serial ??= serial;
            if (serial != _serial) continue; // another logical stream (e.g. a video track): not ours
            bool continued = (_header[5] & 1) != 0;
            if (!continued) _partialLen = 0; // a dangling partial packet from a lost page is dropped
            _pageEos = (_header[5] & 4) != 0;
            _pageGranule = BinaryPrimitives.ReadInt64LittleEndian(_header.AsSpan(6));
            _segCount = segs;
            _segIndex = 0;
            _bodyPos = 0;
            if (_pageEos) _ended = true;
            return true;
        }
    }

    private static uint Crc(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = (crc << 8) ^ CrcTable[(byte)(crc >> 24) ^ b];
        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint r = i << 24;
            for (int k = 0; k < 8; k++) r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            t[i] = r;
        }
        return t;
    }
}
