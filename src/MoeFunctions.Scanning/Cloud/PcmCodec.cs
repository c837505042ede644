using System.Buffers.Binary;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>Clip batches: PCM16 little-endian, window after window. 16 bits keep 96 dB, well beyond what the front end resolves.</summary>
public static class PcmCodec
{
    public static void Write(Stream output, ReadOnlySpan<float> samples)
    {
        var buffer = new byte[samples.Length * 2];
        for (int i = 0; i < samples.Length; i++)
        {
            float s = samples[i];
            // NaN becomes silence; everything else is clipped to the 16-bit range.
            int v = float.IsNaN(s) ? 0 : (int)MathF.Round(Math.Clamp(s, -1f, 1f) * 32767f);
            BinaryPrimitives.WriteInt16LittleEndian(buffer.AsSpan(i * 2), (short)v);
        }
        output.Write(buffer);
    }

    /// <summary>Splits a batch blob back into windows of <paramref name="windowSamples"/> samples.</summary>
    public static List<float[]> ReadWindows(ReadOnlySpan<byte> data, int windowSamples, int expectedWindows)
    {
        int windowBytes = windowSamples * 2;
        if (data.Length != (long)windowBytes * expectedWindows)
            throw new InvalidDataException($"clip batch holds {data.Length} bytes, expected {expectedWindows} windows of {windowBytes} bytes");
        var windows = new List<float[]>(expectedWindows);
        for (int w = 0; w < expectedWindows; w++)
        {
            var samples = new float[windowSamples];
            var slice = data.Slice(w * windowBytes, windowBytes);
            for (int i = 0; i < windowSamples; i++)
                samples[i] = BinaryPrimitives.ReadInt16LittleEndian(slice[(i * 2)..]) / 32767f;
            windows.Add(samples);
        }
        return windows;
    }
}
