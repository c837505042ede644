namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Passes an Ogg file on to NVorbis one checked page at a time. NVorbis 0.10.5 loops forever in its header reading on
/// some corrupt files (a stream's first page repeated later, pages with bad CRCs: two AFL++ finds, in
/// tests/MoeFunctions.Reliability.Tests/Inputs); so pages are checked here first, as <see cref="OggPacketReader"/>
/// checks them for Opus, and such a file fails with a <see cref="MediaDecodeException"/> instead.
/// </summary>
internal sealed class CheckedOggStream : ReadOnlyForwardStream
{
    private readonly OggPageReader _pages;
    private readonly string _format;
    private readonly HashSet<int> _started = [];
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
            _offset = 0;
        }
        int n = Math.Min(buffer.Length, _pages.Raw.Length - _offset);
        _pages.Raw.Slice(_offset, n).CopyTo(buffer);
        _offset += n;
        return n;
    }
}
