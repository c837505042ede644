namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Minimal forward-only Ogg packet reader: follows the first logical stream and reassembles its packets from
/// <see cref="OggPageReader"/>'s checked pages. Concentus 2.2.2 ships no Ogg reader (that lives in the separate
/// Concentus.Oggfile package), so Opus uses this one.
/// </summary>
internal sealed class OggPacketReader
{
    private const int MaxPacketBytes = 1 << 20; // far above any Opus packet; stops chains of continued pages from growing memory
    private readonly OggPageReader _pages;
    private readonly string _format;
    private int _segIndex, _bodyPos;
    private byte[] _partial = new byte[4096];
    private int _partialLen;
    private int? _serial;
    private bool _ended, _havePage;

    public OggPacketReader(InputStream input, string format)
    {
        _pages = new OggPageReader(input, format);
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
            if (!_havePage || _segIndex >= _pages.Lacing.Length)
            {
                if (_ended || !ReadPage()) return [];
                continue;
            }
            int lace = _pages.Lacing[_segIndex];
            if (_partialLen + lace > MaxPacketBytes) throw new MediaDecodeException($"{_format}: Ogg packet larger than {MaxPacketBytes} bytes");
            if (_partial.Length < _partialLen + lace) Array.Resize(ref _partial, Math.Max(_partial.Length * 2, _partialLen + lace));
            _pages.Body.Slice(_bodyPos, lace).CopyTo(_partial.AsSpan(_partialLen));
            _partialLen += lace;
            _bodyPos += lace;
            _segIndex++;
            if (lace < 255)
            {
                bool lastOnPage = !HasCompletePacketAfter(_segIndex);
                Granule = lastOnPage ? _pages.Granule : -1;
                EndOfStream = lastOnPage && _pages.EndsStream;
                return _partial.AsSpan(0, _partialLen);
            }
        }
    }

    private bool HasCompletePacketAfter(int seg)
    {
        foreach (byte lace in _pages.Lacing[seg..]) if (lace < 255) return true;
        return false;
    }

    private bool ReadPage()
    {
        while (true)
        {
            _havePage = _pages.Next();
            if (!_havePage) { _ended = true; return false; }
            _serial ??= _pages.Serial;
            if (_pages.Serial != _serial) continue; // another logical stream (e.g. a video track): not ours
            if (!_pages.Continued) _partialLen = 0; // a dangling partial packet from a lost page is dropped
            _segIndex = 0;
            _bodyPos = 0;
            if (_pages.EndsStream) _ended = true;
            return true;
        }
    }
}
