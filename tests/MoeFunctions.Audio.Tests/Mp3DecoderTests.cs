using MoeFunctions.Audio.Decoding;
using MoeFunctions.TestSupport;
using NLayer;

namespace MoeFunctions.Audio.Tests;

/// <summary>The MP3 decoder cuts the stream into segments decoded in parallel, each after a warm-up over the previous segment's
/// tail. Its output must be exactly what one NLayer decoder running through the whole file gives (NLayer's own <see cref="MpegFile"/>),
/// whatever the segment size and the number of segments decoded at once.</summary>
public sealed class Mp3DecoderTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    public static TheoryData<string, string[]> Encodings => new()
    {
        // name, ffmpeg output args: CBR with a LAME tag and ID3v1 at the end, low bit rates (the bit reservoir reaches furthest
        // back), VBR, MPEG-2 and MPEG-2.5 rates, no Xing frame, Layer II.
        { "cbr128-joint.mp3", ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-ac", "2", "-write_id3v1", "1"] },
        { "cbr32-stereo.mp3", ["-c:a", "libmp3lame", "-b:a", "32k", "-ar", "44100", "-ac", "2"] },
        { "vbr9-22k.mp3", ["-c:a", "libmp3lame", "-q:a", "9", "-ar", "22050", "-ac", "1"] },
        { "cbr8-8k.mp3", ["-c:a", "libmp3lame", "-b:a", "8k", "-ar", "8000", "-ac", "1"] },
        { "no-xing.mp3", ["-c:a", "libmp3lame", "-b:a", "64k", "-ar", "48000", "-ac", "2", "-write_xing", "0", "-id3v2_version", "0"] },
        { "layer2.mp2", ["-c:a", "mp2", "-b:a", "128k", "-ar", "32000", "-ac", "2"] },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Segments_decode_to_the_same_samples_as_one_decoder_over_the_whole_file(string name, string[] args)
    {
        string path = media.Dir.File(name);
        MediaFiles.Ffmpeg(["-i", media.Speech, .. args], path);
        float[] reference = WholeFileDecode(path);

        // 5-frame segments put a boundary every 0.1-0.7 s; the default size is what the scanner uses.
        foreach (var (segmentFrames, parallelism) in new[] { (5, 1), (5, 3), (Mp3Decoder.DefaultSegmentFrames, 2) })
        {
            float[] mine = Decode(path, segmentFrames, parallelism);
            Assert.True(reference.Length > 16000, $"{name}: the reference decode has only {reference.Length} samples");
            Assert.Equal(reference.Length, mine.Length);
            int firstDiff = Enumerable.Range(0, mine.Length).FirstOrDefault(i => mine[i] != reference[i], -1);
            Assert.True(firstDiff < 0, $"{name}, segments of {segmentFrames} frames, {parallelism} at once: sample {firstDiff} differs from one decoder's");
        }
    }

    [Fact]
    public void Junk_between_frames_is_skipped_and_the_frames_around_it_still_decode()
    {
        string path = MediaFiles.Convert(media.Speech, media.Dir.File("clean.mp3"), "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0");
        byte[] clean = File.ReadAllBytes(path);
        // 3000 bytes of 0xFF 0xFB (frame sync bits, but never a valid header: bitrate index 15) spliced in at a frame boundary near the middle.
        int cut = FrameStarts(clean).First(p => p > clean.Length / 2);
        var junk = Enumerable.Range(0, 3000).Select(i => (byte)(i % 2 == 0 ? 0xFF : 0xFB)).ToArray();
        string damaged = media.Dir.File("junk.mp3");
        File.WriteAllBytes(damaged, [.. clean[..cut], .. junk, .. clean[cut..]]);

        float[] whole = Decode(path, 5, 2);
        float[] spliced = Decode(damaged, 5, 2);
        // The frames after the junk are all found again; at most the two frames whose reservoir reaches back across it are lost.
        Assert.InRange(spliced.Length, whole.Length - 2 * 1152, whole.Length);
        Assert.Equal(whole.AsSpan(0, 8000).ToArray(), spliced.AsSpan(0, 8000).ToArray());
    }

    [Fact]
    public void A_file_without_any_frame_is_refused_with_a_clear_reason()
    {
        byte[] tagOnly = [.. "ID3"u8, 4, 0, 0, 0, 0, 0, 10, .. new byte[10], .. Enumerable.Repeat((byte)0x55, 4000)];
        var e = Assert.Throws<MediaDecodeException>(() => new Mp3Decoder(new InputStream(new MemoryStream(tagOnly), long.MaxValue)));
        Assert.Contains("no valid MPEG audio frame", e.Message);
    }

    private static float[] Decode(string path, int segmentFrames, int parallelism)
    {
        using var decoder = new Mp3Decoder(new InputStream(File.OpenRead(path), long.MaxValue), segmentFrames, parallelism);
        var all = new List<float>();
        var buffer = new float[4099];
        int n;
        while ((n = decoder.ReadFrames(buffer)) > 0) all.AddRange(buffer.AsSpan(0, n));
        return all.ToArray();
    }

    /// <summary>NLayer's MpegFile (its own framing, one decoder for the whole file), with our delay, LAME delay and padding rule.</summary>
    private static float[] WholeFileDecode(string path)
    {
        using var mpeg = new MpegFile(path) { StereoMode = StereoMode.DownmixToMono };
        var all = new List<float>();
        var buffer = new float[4608];
        int n;
        while ((n = mpeg.ReadSamples(buffer, 0, buffer.Length)) > 0) all.AddRange(buffer.AsSpan(0, n));
        byte[] bytes = File.ReadAllBytes(path);
        int first = FrameStarts(bytes).First();
        int skip = Mp3Decoder.NLayerDelay;
        long left = long.MaxValue;
        if (Mp3Decoder.ParseLameTag(bytes.AsSpan(first)) is var (delay, padding, frames))
        {
            skip += delay;
            int perFrame = (bytes[first + 1] & 0x18) == 0x18 ? 1152 : 576;
            if (frames > 0) left = frames * perFrame - delay - padding;
        }
        return all.Skip(skip).Take((int)Math.Min(left, int.MaxValue)).ToArray();
    }

    private static IEnumerable<int> FrameStarts(byte[] bytes)
    {
        int p = bytes.AsSpan().StartsWith("ID3"u8) ? 10 + (bytes[6] << 21 | bytes[7] << 14 | bytes[8] << 7 | bytes[9]) : 0;
        while (p + 4 <= bytes.Length && MpegFrameHeader.TryParse(bytes.AsSpan(p)) is { Length: > 0 } h)
        {
            yield return p;
            p += h.Length;
        }
    }
}
