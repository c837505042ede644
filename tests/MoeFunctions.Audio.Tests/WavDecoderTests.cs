using System.Buffers.Binary;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>WAV files written by ffmpeg in every supported encoding, decoded by our reader and compared with ffmpeg's own decode.</summary>
public sealed class WavDecoderTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    // A signal with content near full scale, negative extremes and fine detail in the low bits.
    private const string Signal = "0.9*sin(2*PI*440*t)*sin(2*PI*3*t)+0.09*sin(2*PI*5000*t)";

    [Theory]
    [InlineData("pcm_u8", 1, 1e-12)]
    [InlineData("pcm_s16le", 2, 1e-12)]
    [InlineData("pcm_s24le", 2, 1e-12)]   // ffmpeg writes WAVE_FORMAT_EXTENSIBLE for 24-bit
    [InlineData("pcm_s32le", 1, 6e-8)]    // 32-bit integers do not fit a float's 24-bit mantissa
    [InlineData("pcm_f32le", 2, 1e-12)]
    [InlineData("pcm_f64le", 1, 6e-8)]
    [InlineData("pcm_s16le", 6, 1e-12)]   // 6 channels: WAVE_FORMAT_EXTENSIBLE with a channel mask
    public void Decodes_exactly_like_ffmpeg(string codec, int channels, double tolerance)
    {
        string path = MediaFiles.Synth(media.Dir.Path, $"{codec}-{channels}.wav", Signal, 1.3, 44100, channels, "-c:a", codec);
        var (mine, dec) = TestAudio.DecodeNative(path);
        double[] reference = MediaFiles.FfmpegDecodeDoubles(path);
        Assert.Equal(44100, dec.SampleRate);
        Assert.Equal(channels, dec.Channels);
        Assert.Equal(reference.Length, mine.Length);
        double maxErr = 0;
        for (int i = 0; i < mine.Length; i++) maxErr = Math.Max(maxErr, Math.Abs(mine[i] - reference[i]));
        Assert.True(maxErr <= tolerance, $"max error {maxErr:E2} > {tolerance:E2}");
    }

    [Fact]
    public void Extensible_header_is_really_used_by_the_24_bit_file()
    {
        string path = MediaFiles.Synth(media.Dir.Path, "ext.wav", Signal, 0.2, 48000, 2, "-c:a", "pcm_s24le");
        var head = File.ReadAllBytes(path).AsSpan(0, 40);
        Assert.Equal(0xFFFE, BinaryPrimitives.ReadUInt16LittleEndian(head[20..]));
        var (mine, dec) = TestAudio.DecodeNative(path);
        Assert.Equal(2, dec.Channels);
        Assert.Equal(2 * (int)(0.2 * 48000), mine.Length);
    }

    [Fact]
    public void Sixteen_kHz_mono_passes_through_bit_exact()
    {
        string path = MediaFiles.Synth(media.Dir.Path, "pass.wav", Signal, 2.0, 16000, 1, "-c:a", "pcm_s16le");
        float[] mine = TestAudio.DecodeFile(path);
        byte[] s16 = MediaFiles.FfmpegDecode(path, "-f", "s16le");
        Assert.Equal(s16.Length / 2, mine.Length);
        for (int i = 0; i < mine.Length; i++)
            Assert.Equal(BinaryPrimitives.ReadInt16LittleEndian(s16.AsSpan(2 * i)), (int)(mine[i] * 32768));
    }

    [Fact]
    public void Sox_written_wav_with_extra_chunks_decodes()
    {
        // sox puts a LIST chunk before data when a comment is given: the reader must skip unknown chunks forward-only.
        string src = MediaFiles.Synth(media.Dir.Path, "sox-src.wav", Signal, 0.5, 22050, 1, "-c:a", "pcm_s16le");
        string dst = Path.Combine(media.Dir.Path, "sox-out.wav");
        MediaFiles.Run("sox", [src, "--comment", "made by a test", "-b", "24", dst]);
        var (mine, dec) = TestAudio.DecodeNative(dst);
        double[] reference = MediaFiles.FfmpegDecodeDoubles(dst);
        Assert.Equal(22050, dec.SampleRate);
        Assert.Equal(reference.Length, mine.Length);
        for (int i = 0; i < mine.Length; i++) Assert.Equal(reference[i], mine[i], 1e-12);
    }
}
