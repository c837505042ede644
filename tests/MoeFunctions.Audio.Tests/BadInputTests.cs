using System.Buffers.Binary;
using System.Text;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>
/// Hostile and broken inputs: each must end as a MediaDecodeException with a clear reason (or, for inputs cut inside
/// the audio data, as the audio before the cut), never another exception type and never a hang.
/// </summary>
public sealed class BadInputTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private static byte[] Wav(int rate, int channels, int bits, uint dataSize, int dataBytes, ushort tag = 1, uint? riffSize = null)
    {
        var b = new byte[44 + dataBytes];
        "RIFF"u8.CopyTo(b); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), riffSize ?? (uint)(36 + dataBytes)); "WAVE"u8.CopyTo(b.AsSpan(8));
        "fmt "u8.CopyTo(b.AsSpan(12)); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(20), tag); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(22), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), (uint)(rate * channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(32), (ushort)(channels * bits / 8)); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(34), (ushort)bits);
        "data"u8.CopyTo(b.AsSpan(36)); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(40), dataSize);
        var rng = new Random(1);
        for (int i = 44; i < b.Length; i++) b[i] = (byte)rng.Next(256);
        return b;
    }

    private byte[] Encoded(string ext, params string[] args)
    {
        string path = media.Dir.File("src" + Guid.NewGuid().ToString("N")[..6] + ext);
        // Noise makes the compressed files large enough to span several Ogg pages / FLAC frames.
        MediaFiles.Synth(media.Dir.Path, Path.GetFileName(path), "0.4*sin(2*PI*440*t)+0.2*(2*random(0)-1)", 2.0, 44100, 2, args);
        return File.ReadAllBytes(path);
    }

    /// <summary>Inputs that must fail, with a fragment of the expected reason.</summary>
    public static TheoryData<string, string> Failing => new()
    {
        { "empty", "empty input" },
        { "one-byte", "too short" },
        { "three-bytes", "too short" },
        { "text-named-wav", "not a media file (text)" },
        { "hls-playlist", "not a media file (text)" },
        { "pdf", "not a media file (PDF" },
        { "png", "not a media file (PNG" },
        { "zip", "not a media file (ZIP" },
        { "random-binary", "ffmpeg could not decode" },
        { "wav-cut-in-fmt", "truncated" },
        { "wav-header-only", "no audio samples" },
        { "wav-rate-0", "invalid sample rate 0" },
        { "wav-rate-1", "unsupported sample rate 1 Hz" },
        { "wav-rate-10M", "unsupported sample rate 10000000" },
        { "wav-channels-0", "invalid channel count 0" },
        { "wav-channels-65535", "unsupported channel count 65535" },
        { "wav-claims-4GB", "states a duration" },
        { "wav-12-bit-block", "block align" },
        { "wav-no-data-chunk", "no data chunk" },
        { "flac-cut-in-streaminfo", "truncated STREAMINFO" },
        { "flac-marker-only", "truncated metadata" },
        { "flac-zero-rate", "invalid sample rate 0" },
        { "ogg-opus-cut-in-head", "OpusHead" },
        { "ogg-vorbis-cut-in-headers", "ogg-vorbis" },
        { "ogg-opus-corrupt-page", "checksum" },
        { "mp3-one-frame-header", "mp3" },
        { "video-without-audio", "no audio track" },
    };

    [Theory]
    [MemberData(nameof(Failing))]
    public void Fails_with_a_clear_reason(string name, string reason)
    {
        byte[] bytes = Build(name);
        var e = RunGuarded(() => Assert.Throws<MediaDecodeException>(() => DecodeBytes(bytes)));
        Assert.Contains(reason, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Inputs cut inside the audio data: the audio before the cut is returned, like ffmpeg does.</summary>
    [Theory]
    [InlineData("wav-cut-in-data", 30000)]
    [InlineData("wav-data-size-beyond-file", 30000)]
    [InlineData("flac-cut-in-frames", 10000)]
    [InlineData("mp3-cut-in-frames", 10000)]
    [InlineData("ogg-vorbis-cut-in-pages", 10000)]
    [InlineData("ogg-opus-cut-in-pages", 10000)]
    [InlineData("mp3-garbage-in-the-middle", 20000)]
    public void Cut_or_damaged_audio_gives_the_readable_part(string name, int minSamples)
    {
        byte[] bytes = Build(name);
        float[] y = RunGuarded(() => DecodeBytes(bytes));
        Assert.InRange(y.Length, minSamples, 33000); // the whole file would be 2 s = 32000 samples
        Assert.All(y, v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Nan_and_infinite_float_samples_become_finite()
    {
        var b = Wav(16000, 1, 32, 4 * 16000, 4 * 16000, tag: 3);
        for (int i = 0; i < 16000; i++)
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(44 + 4 * i), (i % 4) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.NegativeInfinity, _ => 3.5f });
        float[] y = DecodeBytes(b);
        Assert.Equal(16000, y.Length);
        Assert.All(y, v => Assert.True(float.IsFinite(v) && v is >= -1f and <= 1f));
        // Exactly: non-finite samples become 0 and 3.5 clamps to 1, in the vectorised body and the scalar tail alike.
        Assert.Equal(Enumerable.Range(0, 16000).Select(i => i % 4 == 3 ? 1f : 0f), y);
    }

    [Fact]
    public void Max_bytes_is_enforced_for_seekable_and_forward_only_inputs()
    {
        byte[] wav = Wav(16000, 1, 16, 64000, 64000);
        var options = new DecodeOptions { MaxBytes = 10_000 };
        var e1 = Assert.Throws<MediaDecodeException>(() => MediaDecoder.Open(new MemoryStream(wav), options));
        Assert.Contains("MaxBytes", e1.Message);
        var e2 = Assert.Throws<MediaDecodeException>(() => TestAudio.ReadAll(MediaDecoder.Open(new ForwardOnlyWrapper(new MemoryStream(wav)), options)));
        Assert.Contains("MaxBytes", e2.Message);
    }

    [Fact]
    public void Max_duration_is_enforced_while_decoding()
    {
        byte[] wav = Wav(16000, 1, 16, 0xFFFFFFFF, 10 * 32000); // streaming-style size: duration unknown until decoded
        var e = Assert.Throws<MediaDecodeException>(() => TestAudio.ReadAll(MediaDecoder.Open(new MemoryStream(wav), new DecodeOptions { MaxDurationSeconds = 5 })));
        Assert.Contains("MaxDurationSeconds", e.Message);
    }

    [Fact]
    public void Missing_ffmpeg_gives_the_install_hint()
    {
        byte[] m4a = Encoded(".m4a", "-c:a", "aac");
        var e = Assert.Throws<MediaDecodeException>(() => MediaDecoder.Open(new MemoryStream(m4a), new DecodeOptions { FfmpegPath = "/nonexistent/ffmpeg" }));
        Assert.StartsWith("unsupported format (MP4/M4A/MOV); install ffmpeg to decode it", e.Message);
    }

    [Fact]
    public void Hanging_ffmpeg_is_killed_after_the_timeout()
    {
        if (OperatingSystem.IsWindows()) return; // the stand-in is a shell script
        string fake = media.Dir.File("fake-ffmpeg.sh");
        File.WriteAllText(fake, "#!/bin/sh\nexec sleep 300\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        byte[] mkv = Encoded(".mka", "-c:a", "libvorbis");
        var e = RunGuarded(() => Assert.Throws<MediaDecodeException>(() =>
            MediaDecoder.Open(new MemoryStream(mkv), new DecodeOptions { FfmpegPath = fake, FfmpegTimeout = TimeSpan.FromSeconds(1) })));
        Assert.Contains("timed out", e.Message);
    }

    [Fact]
    public void Files_that_cannot_be_opened_give_a_reason()
    {
        var e = Assert.Throws<MediaDecodeException>(() => MediaDecoder.OpenFile(media.Dir.File("no such file.wav")));
        Assert.Contains("cannot open", e.Message);
    }

    private static T RunGuarded<T>(Func<T> action)
    {
        var task = Task.Run(action);
        Assert.True(task.Wait(HangGuard), "decoding hung");
        return task.Result;
    }

    private static float[] DecodeBytes(byte[] bytes)
    {
        using var src = MediaDecoder.Open(new ForwardOnlyWrapper(new MemoryStream(bytes)));
        return TestAudio.ReadAll(src);
    }

    private byte[] Build(string name)
    {
        byte[] Cut(byte[] b, int n) => b.AsSpan(0, Math.Min(n, b.Length)).ToArray();
        switch (name)
        {
            case "empty": return [];
            case "one-byte": return [0x52];
            case "three-bytes": return "RIF"u8.ToArray();
            case "text-named-wav": return Encoding.UTF8.GetBytes("This is not audio, just a text file someone named speech.wav.\n");
            case "hls-playlist": return Encoding.UTF8.GetBytes("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n");
            case "pdf": return Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n");
            case "png": return [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R'];
            case "zip": return [(byte)'P', (byte)'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0];
            case "random-binary": { var b = new byte[20000]; new Random(5).NextBytes(b); b[0] = 0x00; return b; }
            case "wav-cut-in-fmt": return Cut(Wav(16000, 1, 16, 32000, 32000), 24);
            case "wav-header-only": return Cut(Wav(16000, 1, 16, 32000, 32000), 44);
            case "wav-rate-0": return Wav(0, 1, 16, 32000, 32000);
            case "wav-rate-1": return Wav(1, 1, 16, 32000, 32000);
            case "wav-rate-10M": return Wav(10_000_000, 1, 16, 32000, 32000);
            case "wav-channels-0": return Wav(16000, 0, 16, 32000, 32000);
            case "wav-channels-65535": return Wav(16000, 65535, 16, 32000, 32000);
            case "wav-claims-4GB": return Wav(16000, 1, 16, 0xFFFFFFF0, 32000, riffSize: 0xFFFFFFF8);
            case "wav-12-bit-block": { var b = Wav(16000, 2, 16, 32000, 32000); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(32), 3); return b; }
            case "wav-no-data-chunk": { var b = Wav(16000, 1, 16, 32000, 0); "junk"u8.CopyTo(b.AsSpan(36)); BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(40), 0); return b; }
            case "wav-cut-in-data": return Cut(Wav(16000, 1, 16, 64000, 64000), 44 + 61000);
            case "wav-data-size-beyond-file": return Wav(16000, 1, 16, 64_000_000, 64000, riffSize: 64_000_036);
            case "flac-cut-in-streaminfo": return Cut(Encoded(".flac"), 20);
            case "flac-marker-only": return "fLaC"u8.ToArray();
            case "flac-zero-rate": { var b = Encoded(".flac"); b[18] = 0; b[19] = 0; b[20] &= 0x0F; return b; }
            case "flac-cut-in-frames": { var b = Encoded(".flac"); return Cut(b, b.Length * 2 / 3); }
            case "ogg-opus-cut-in-head": return Cut(Encoded(".opus", "-c:a", "libopus"), 40);
            case "ogg-vorbis-cut-in-headers": return Cut(Encoded(".ogg", "-c:a", "libvorbis"), 200);
            case "ogg-opus-corrupt-page": { var b = Encoded(".opus", "-c:a", "libopus"); b[b.Length / 2] ^= 0xFF; return b; }
            case "ogg-vorbis-cut-in-pages": { var b = Encoded(".ogg", "-c:a", "libvorbis"); return Cut(b, b.Length * 2 / 3); }
            case "ogg-opus-cut-in-pages": { var b = Encoded(".opus", "-c:a", "libopus"); return Cut(b, b.Length * 2 / 3); }
            case "mp3-one-frame-header": return Cut(Encoded(".mp3", "-c:a", "libmp3lame", "-write_xing", "0"), 300);
            case "mp3-cut-in-frames": { var b = Encoded(".mp3", "-c:a", "libmp3lame"); return Cut(b, b.Length * 2 / 3); }
            case "mp3-garbage-in-the-middle":
            {
                var b = Encoded(".mp3", "-c:a", "libmp3lame");
                new Random(9).NextBytes(b.AsSpan(b.Length / 2, 2000));
                return b;
            }
            case "video-without-audio":
                return File.ReadAllBytes(MediaFiles.Ffmpeg(["-f", "lavfi", "-i", "color=c=green:s=32x32:r=5:d=1", "-c:v", "mpeg4"], media.Dir.File("video-only.mkv")));
            default: throw new ArgumentException(name);
        }
    }
}
