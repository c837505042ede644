namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Passes an Ogg file on to NVorbis one checked page at a time. NVorbis 0.10.5 loops forever in its header reading on
/// some corrupt files (a stream's first page repeated later, pages with bad CRCs: two AFL++ finds, in
/// tests/MoeFunctions.Reliability.Tests/Inputs); so pages are checked here first, as <see cref="OggPacketReader"/>
/// checks them for Opus, and such a file fails with a <see cref="MediaDecodeException"/> instead.
/// </summary>
internal sealed class CheckedOggStream : ReadOnlyForwardStream
{
    /// <summary>NVorbis buffers a packet whole, growing its buffer page by page, so a file of endlessly continued pages
    /// could exhaust memory. 16 MiB leaves room for cover art in the comment header.</summary>
    public const int MaxPacketBytes = 16 << 20;
    private readonly OggPageReader _pages;
    private readonly string _format;
    private readonly HashSet<int> _started = [];
    private readonly Dictionary<int, long> _openPacket = []; // per serial: bytes of the packet still being continued
    private int _offset;
    private bool _ended;

    public CheckedOggStream(InputStream input, string format)
    {
        _pages = new OggPageReader(input, format);
        _format = format;
    }

    public override int Read(Span<byte> buffer)
    {
        while (_offset >= _pages.Raw.Length)
        {
            if (_ended || !_pages.Next()) { _ended = true; return 0; }
            // A new serial may begin a chained stream; the same serial beginning again is a spliced or corrupt file.
            if (_pages.BeginsStream && !_started.Add(_pages.Serial))
                throw new MediaDecodeException($"{_format}: Ogg stream {(uint)_pages.Serial:x8} begins twice (corrupt data)");
            CheckPacketSizes();
            _offset = 0;
        }
        int n = Math.Min(buffer.Length, _pages.Raw.Length - _offset);
        _pages.Raw.Slice(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }

    private void CheckPacketSizes()
    {
        long open = _pages.Continued ? _openPacket.GetValueOrDefault(_pages.Serial) : 0;
        foreach (byte lace in _pages.Lacing)
        {
            open += lace;
            if (open > MaxPacketBytes) throw new MediaDecodeException($"{_format}: Ogg packet larger than {MaxPacketBytes >> 20} MiB");
            if (lace < 255) open = 0; // a lacing value under 255 ends the packet
        }
        _openPacket[_pages.Serial] = open;
    }
}
