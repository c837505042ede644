using System.Runtime.ExceptionServices;

namespace MoeFunctions.Audio;

/// <summary>
/// Wraps the caller's input stream and remembers the first exception its own reads threw. Decoders turn every exception
/// into <see cref="MediaDecodeException"/> (hostile headers make libraries throw anything), which would also turn a
/// network or storage read failure into a permanent "bad media" verdict; <see cref="MediaDecoder"/> checks this tag and
/// rethrows the source's own exception instead, so callers can retry it. No knowledge of any storage SDK is needed.
/// </summary>
internal sealed class SourceStream(Stream inner) : ReadOnlyForwardStream
{
    private ExceptionDispatchInfo? _fault;
    private volatile bool _disposed;

    /// <summary>The first exception the wrapped stream threw while reading, if any.</summary>
    public Exception? Fault => Volatile.Read(ref _fault)?.SourceException;

    /// <summary>Rethrows the wrapped stream's own exception (original type and stack) when it failed; otherwise nothing.</summary>
    public void ThrowIfFaulted() => Volatile.Read(ref _fault)?.Throw();

    public override int Read(Span<byte> buffer)
    {
        try { return inner.Read(buffer); }
        catch (Exception e) { Record(e); throw; }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try { return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) { Record(e); throw; }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>A read failing after our own dispose is the decoder shutting down, not a source fault.</summary>
    private void Record(Exception e)
    {
        if (!_disposed) Interlocked.CompareExchange(ref _fault, ExceptionDispatchInfo.Capture(e), null);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>Surfaces a source read failure from anywhere in decoding (a decoder's wrapper, or ffmpeg's input pump that swallows it and ends the output early).</summary>
internal sealed class SourceFaultGuard(IMonoAudioSource inner, SourceStream source) : IMonoAudioSource
{
    public MediaFacts Facts => inner.Facts;

    public int Read(Span<float> destination)
    {
        int n;
        try { n = inner.Read(destination); }
        catch (Exception) when (source.Fault is not null) { source.ThrowIfFaulted(); throw; }
        source.ThrowIfFaulted();
        return n;
    }

    public void Dispose() => inner.Dispose();
}
