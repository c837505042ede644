using MoeFunctions.Audio;

namespace MoeFunctions.Fuzz;

/// <summary>
/// The fuzzed code path: sniff + decode + downmix/resample + window + speech detection of arbitrary bytes.
/// The only exception allowed out of the audio layer is <see cref="MediaDecodeException"/>; anything else is a bug
/// and escapes so the fuzzer (or the test suite) reports it.
/// </summary>
public static class FuzzTarget
{
    /// <summary>
    /// Small limits keep one input fast: a hostile header cannot make a single run decode hours of audio.
    /// ffmpeg is pointed at a path that does not exist: the fuzzer targets our own sniffing and managed decoders, and
    /// inputs they hand to ffmpeg end as "unsupported format" instead of a process start per input.
    /// </summary>
    public static readonly DecodeOptions Options = new()
    {
        MaxBytes = 16 * 1024 * 1024,
        MaxDurationSeconds = 120,
        FfmpegPath = "/nonexistent/moe-fuzz/ffmpeg",
        FfmpegTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Runs one input; returns the number of windows, or -1 when it was refused with a MediaDecodeException.</summary>
    public static int Run(byte[] data, DecodeOptions? options = null)
    {
        try
        {
            using var source = MediaDecoder.Open(new MemoryStream(data, writable: false), options ?? Options);
            int windows = 0;
            foreach (var w in Windower.Split(source, new WindowOptions()))
            {
                if (w.Samples.Length != 48000) throw new InvalidOperationException($"window {w.Index} has {w.Samples.Length} samples");
                windows++;
            }
            return windows;
        }
        catch (MediaDecodeException)
        {
            return -1;
        }
    }
}
