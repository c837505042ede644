namespace MoeFunctions.Audio;

/// <summary>
/// Base of the decoders' read-only, forward-only stream wrappers: subclasses supply <see cref="Read(Span{byte})"/>;
/// seeking, writing and the length are refused, as a blob download stream refuses them.
/// </summary>
internal abstract class ReadOnlyForwardStream : Stream
{
    public abstract override int Read(Span<byte> buffer);
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
