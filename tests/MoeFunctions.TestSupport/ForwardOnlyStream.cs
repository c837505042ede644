namespace MoeFunctions.TestSupport;

/// <summary>
/// Base of the tests' hand-made read-only streams that, like a network or blob download stream, cannot seek, report
/// no length and cannot be written. A subclass supplies Read (and may report its Position).
/// </summary>
public abstract class ForwardOnlyStream : Stream
{
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
