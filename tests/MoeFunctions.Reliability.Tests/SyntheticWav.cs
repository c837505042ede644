using System.Buffers.Binary;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Reliability.Tests;

/// <summary>Hand-made WAV headers with any field value, including the impossible ones.</summary>
public static class SyntheticWav
{
    /// <param name="riffSize">null = consistent with <paramref name="dataBytes"/>.</param>
    /// <param name="declaredDataSize">null = <paramref name="dataBytes"/>.</param>
    public static byte[] Header(uint rate, ushort channels, ushort bits, long dataBytes, ushort tag = 1,
                                uint? riffSize = null, uint? declaredDataSize = null, ushort? blockAlign = null)
    {
        var h = new byte[44];
        "RIFF"u8.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), riffSize ?? (uint)Math.Min(36 + dataBytes, uint.MaxValue));
        "WAVEfmt "u8.CopyTo(h.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(20), tag);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(22), channels);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(24), rate);
        ushort align = blockAlign ?? (ushort)Math.Min(channels * (bits / 8), ushort.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(28), (uint)Math.Min((ulong)rate * align, uint.MaxValue));
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(32), align);
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(34), bits);
        "data"u8.CopyTo(h.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), declaredDataSize ?? (uint)Math.Min(dataBytes, uint.MaxValue));
        return h;
    }

    /// <summary>A complete in-memory WAV: header + the given payload.</summary>
    public static byte[] File(uint rate, ushort channels, ushort bits, ReadOnlySpan<byte> payload, ushort tag = 1,
                              uint? riffSize = null, uint? declaredDataSize = null)
    {
        var h = Header(rate, channels, bits, payload.Length, tag, riffSize, declaredDataSize);
        return [.. h, .. payload];
    }

    /// <summary>32-bit float mono WAV whose samples repeat <paramref name="pattern"/>.</summary>
    public static byte[] Float32(uint rate, int samples, params float[] pattern)
    {
        var payload = new byte[samples * 4];
        for (int i = 0; i < samples; i++) BinaryPrimitives.WriteSingleLittleEndian(payload.AsSpan(4 * i), pattern[i % pattern.Length]);
        return File(rate, 1, 32, payload, tag: 3);
    }
}

/// <summary>
/// A forward-only stream that synthesises a WAV file of any length: a header, then <see cref="_payloadBytes"/> bytes of
/// zeros (digital silence). Nothing is held in memory, so an hour or ten hours cost no more RAM than a second.
/// </summary>
public sealed class SynthWavStream(byte[] header, long payloadBytes) : ForwardOnlyStream
{
    private readonly long _payloadBytes = payloadBytes;
    private long _pos;

    /// <summary>Bytes handed out so far: tests use it to see how far the decoder read before it stopped.</summary>
    public long BytesRead => _pos;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        long total = header.Length + _payloadBytes;
        int n = (int)Math.Min(buffer.Length, total - _pos);
        if (n <= 0) return 0;
        int fromHeader = 0;
        if (_pos < header.Length)
        {
            fromHeader = (int)Math.Min(n, header.Length - _pos);
            header.AsSpan((int)_pos, fromHeader).CopyTo(buffer);
        }
        buffer[fromHeader..n].Clear();
        _pos += n;
        return n;
    }

    public override long Position => _pos;
}
