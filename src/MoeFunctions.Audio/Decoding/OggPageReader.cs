using System.Buffers.Binary;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Forward-only Ogg page reader (RFC 3533): one whole page at a time, its CRC checked. A page cut off by the end of the
/// input ends the stream (what came before still decodes, as with ffmpeg); bad sync, an unknown version or a wrong CRC
/// is a <see cref="MediaDecodeException"/>.
/// </summary>
internal sealed class OggPageReader
{
    private const int HeaderBytes = 27;
    private static readonly uint[] CrcTable = BuildCrcTable();
    private readonly InputStream _input;
    private readonly string _format;
    private readonly byte[] _page = new byte[HeaderBytes + 255 + 255 * 255]; // the largest possible page
    private int _segments, _length;

    public OggPageReader(InputStream input, string format)
    {
        _input = input;
        _format = format;
    }

    public int Serial => BinaryPrimitives.ReadInt32LittleEndian(_page.AsSpan(14));
    public bool Continued => (_page[5] & 1) != 0;
    public bool BeginsStream => (_page[5] & 2) != 0;
    public bool EndsStream => (_page[5] & 4) != 0;
    public long Granule => BinaryPrimitives.ReadInt64LittleEndian(_page.AsSpan(6));

    /// <summary>The lacing values: one byte per segment, 255 meaning the packet goes on in the next segment.</summary>
    public ReadOnlySpan<byte> Lacing => _page.AsSpan(HeaderBytes, _segments);

    public ReadOnlySpan<byte> Body => _page.AsSpan(HeaderBytes + _segments, _length - HeaderBytes - _segments);

    /// <summary>The page exactly as it was read, CRC included.</summary>
    public ReadOnlySpan<byte> Raw => _page.AsSpan(0, _length);

    /// <summary>Reads the next page; false at the end of the input or on a page the input cuts off.</summary>
    public bool Next()
    {
        _length = 0;
        int n = _input.ReadFull(_page.AsSpan(0, HeaderBytes));
        if (n < HeaderBytes) return false;
        if (!_page.AsSpan(0, 4).SequenceEqual("OggS"u8)) throw new MediaDecodeException($"{_format}: lost Ogg page sync (corrupt data)");
        if (_page[4] != 0) throw new MediaDecodeException($"{_format}: unsupported Ogg version {_page[4]}");
        int segments = _page[26];
        if (_input.ReadFull(_page.AsSpan(HeaderBytes, segments)) < segments) return false;
        int bodyLength = 0;
        foreach (byte lace in _page.AsSpan(HeaderBytes, segments)) bodyLength += lace;
        int length = HeaderBytes + segments + bodyLength;
        if (_input.ReadFull(_page.AsSpan(HeaderBytes + segments, bodyLength)) < bodyLength) return false;
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(_page.AsSpan(22));
        BinaryPrimitives.WriteUInt32LittleEndian(_page.AsSpan(22), 0); // the CRC is computed with its own field zeroed
        uint crc = Crc(_page.AsSpan(0, length));
        BinaryPrimitives.WriteUInt32LittleEndian(_page.AsSpan(22), stored);
        if (crc != stored) throw new MediaDecodeException($"{_format}: Ogg page checksum mismatch (corrupt data)");
        _segments = segments;
        _length = length;
        return true;
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        uint crc = 0;
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
