namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Forward-only view of the caller's stream: replays the sniffed prefix, counts bytes and refuses to read past
/// <see cref="DecodeOptions.MaxBytes"/>. Decoders read through it, so no decoder needs the source to be seekable.
/// </summary>
internal sealed class InputStream : ReadOnlyForwardStream
{
    private readonly Stream _inner;
    private readonly long _maxBytes;
    private byte[] _prefix = [];
    private int _prefixPos;
    private bool _innerEnded;

    public InputStream(Stream inner, long maxBytes)
    {
        _inner = inner;
        _maxBytes = maxBytes;
    }

    /// <summary>Bytes handed out so far (prefix replays are not counted twice).</summary>
    public long Consumed { get; private set; }
    private long _innerRead;

    /// <summary>Reads up to <paramref name="count"/> bytes ahead without consuming them; fewer only at end of input.</summary>
    public ReadOnlySpan<byte> Peek(int count)
    {
        int have = _prefix.Length - _prefixPos;
        if (have < count && !_innerEnded)
        {
            var grown = new byte[count];
            _prefix.AsSpan(_prefixPos).CopyTo(grown);
            int n = have;
            while (n < count)
            {
                int r = ReadInner(grown.AsSpan(n, count - n));
                if (r == 0) { _innerEnded = true; break; }
                n += r;
            }
            _prefix = n == count ? grown : grown[..n];
            _prefixPos = 0;
            have = n;
        }
        return _prefix.AsSpan(_prefixPos, Math.Min(have, count));
    }

    /// <summary>Discards <paramref name="count"/> bytes (e.g. an ID3 tag); returns how many were actually skipped.</summary>
    public long Skip(long count)
    {
        var scratch = new byte[(int)Math.Min(count, 65536)];
        long left = count;
        while (left > 0)
        {
            int r = Read(scratch, 0, (int)Math.Min(left, scratch.Length));
            if (r == 0) break;
            left -= r;
        }
        return count - left;
    }

    private int ReadInner(Span<byte> buffer)
    {
        int r;
        try { r = _inner.Read(buffer); }
        catch (IOException e) { throw new MediaDecodeException($"reading the input failed: {e.Message}", e); }
        _innerRead += r;
        if (_innerRead > _maxBytes)
            throw new MediaDecodeException($"input is larger than the limit of {_maxBytes:N0} bytes (DecodeOptions.MaxBytes)");
        return r;
    }

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        int have = _prefix.Length - _prefixPos;
        if (have > 0)
        {
            int n = Math.Min(have, buffer.Length);
            _prefix.AsSpan(_prefixPos, n).CopyTo(buffer);
            _prefixPos += n;
            if (_prefixPos == _prefix.Length) { _prefix = []; _prefixPos = 0; }
            Consumed += n;
            return n;
        }
        if (_innerEnded) return 0;
        int r = ReadInner(buffer);
        if (r == 0) _innerEnded = true;
        Consumed += r;
        return r;
    }

    /// <summary>Fills <paramref name="buffer"/> completely unless the input ends; returns the count read.</summary>
    public int ReadFull(Span<byte> buffer)
    {
        int n = 0;
        while (n < buffer.Length)
        {
            int r = Read(buffer[n..]);
            if (r == 0) break;
            n += r;
        }
        return n;
    }

    public override long Position { get => Consumed; set => throw new NotSupportedException(); }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}
