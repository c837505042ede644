using MoeFunctions.Audio.Decoding;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>Each format made from the same espeak-ng speech, decoded through the full pipeline (forward-only stream,
/// 16 kHz mono) and compared with ffmpeg's decode of the same file: same timing (best lag 0) and a high SNR.</summary>
public sealed class FormatTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    public static TheoryData<string, string[], string, string, double> Cases => new()
    {
        // extension, ffmpeg output args, expected format, expected decoder, minimum SNR (dB) against ffmpeg's decode.
        // Lossless sources reach about 41 dB: the rest is the difference between our Speex resampler (quality 6) and
        // soxr in the 7-8 kHz transition band, where espeak-ng speech still has energy. Exactness of the decoders
        // themselves is tested at the native rate (WavDecoderTests, FlacDecoderTests, Ffmpeg_path_returns_ffmpegs_samples).
        { ".mp3", ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", "44100", "-ac", "2"], "mp3", "NLayer", 25 },
        { ".ogg", ["-c:a", "libvorbis", "-q:a", "5", "-ar", "48000"], "ogg-vorbis", "NVorbis", 30 },
        { ".opus", ["-c:a", "libopus", "-b:a", "64k", "-ac", "2"], "ogg-opus", "Concentus", 20 },
        { ".flac", ["-ar", "44100"], "flac", "MoeFunctions FLAC decoder", 38 },
        { ".wav", ["-ar", "48000", "-ac", "2", "-c:a", "pcm_s24le"], "wav", "MoeFunctions WAV reader", 38 },
        { ".m4a", ["-c:a", "aac", "-b:a", "128k", "-ar", "44100"], "mov,mp4,m4a,3gp,3g2,mj2", "ffmpeg", 38 },
        { ".mkv", ["-f", "lavfi", "-i", "color=c=blue:s=64x64:r=10", "-shortest", "-c:v", "mpeg4", "-c:a", "libvorbis", "-ar", "32000"], "matroska,webm", "ffmpeg", 38 },
        { ".mp4", ["-f", "lavfi", "-i", "color=c=red:s=64x64:r=10", "-shortest", "-c:v", "mpeg4", "-c:a", "aac", "-movflags", "+faststart"], "mov,mp4,m4a,3gp,3g2,mj2", "ffmpeg", 38 },
        { ".aiff", ["-ar", "22050", "-ac", "2"], "aiff", "ffmpeg", 38 },
        { ".wma", ["-c:a", "wmav2", "-b:a", "128k", "-ar", "44100"], "asf", "ffmpeg", 25 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decodes_like_ffmpeg(string ext, string[] args, string format, string decoder, double minSnr)
    {
        string path = media.Dir.File("speech-" + ext.TrimStart('.') + ext);
        var ffArgs = new List<string> { "-i", media.Speech };
        ffArgs.AddRange(args);
        MediaFiles.Ffmpeg(ffArgs, path);

        using var src = MediaDecoder.Open(new ForwardOnlyWrapper(File.OpenRead(path)));
        Assert.Equal(format, src.Facts.Format);
        Assert.Equal(decoder, src.Facts.Decoder);
        float[] mine = TestAudio.ReadAll(src);
        double[] reference = TestAudio.FfmpegMono16k(path, src.Facts.Channels);

        // Same length within the resamplers' and codecs' edge handling (a few ms).
        Assert.InRange(mine.Length, reference.Length - 800, reference.Length + 800);
        var (lag, corr) = TestAudio.BestLag(mine, reference, 200);
        Assert.Equal(0, lag);
        Assert.True(corr > 0.99, $"correlation {corr:F4}");
        double snr = TestAudio.SnrDb(mine, reference, 400);
        Assert.True(snr >= minSnr, $"SNR {snr:F1} dB against ffmpeg, expected >= {minSnr}");
    }

    [Fact]
    public void Mp4_with_index_at_the_end_is_spooled_to_a_temp_file_and_decodes()
    {
        string path = MediaFiles.Convert(media.Speech, media.Dir.File("moov-at-end.m4a"), "-c:a", "aac", "-movflags", "-faststart");
        var before = Directory.GetFiles(Path.GetTempPath(), "moe-decode-*").ToHashSet();
        var src = MediaDecoder.Open(new ForwardOnlyWrapper(File.OpenRead(path)));
        var spooled = Directory.GetFiles(Path.GetTempPath(), "moe-decode-*").Except(before).ToList();
        float[] mine = TestAudio.ReadAll(src);
        double[] reference = TestAudio.FfmpegMono16k(path, src.Facts.Channels);
        src.Dispose();
        Assert.NotEmpty(spooled);
        Assert.All(spooled, f => Assert.False(File.Exists(f), $"{f} was left behind"));
        Assert.True(TestAudio.SnrDb(mine, reference, 400) > 38);
    }

    [Fact]
    public void Ffmpeg_path_returns_ffmpegs_samples_exactly_at_the_native_rate()
    {
        string path = MediaFiles.Convert(media.Speech, media.Dir.File("native.aiff"), "-ar", "32000", "-ac", "2");
        var (mine, dec) = TestAudio.DecodeNative(path);
        Assert.IsType<FfmpegDecoder>(dec);
        Assert.Equal((32000, 2), (dec.SampleRate, dec.Channels));
        double[] reference = MediaFiles.FfmpegDecodeDoubles(path);
        Assert.Equal(reference.Length, mine.Length);
        for (int i = 0; i < mine.Length; i++) Assert.Equal(reference[i], mine[i], 1e-9);
    }

    [Fact]
    public void Facts_report_the_source_rate_channels_and_duration()
    {
        string path = MediaFiles.Tone(media.Dir.Path, "facts.flac", 440, 2.5, 44100, 2);
        using var src = MediaDecoder.OpenFile(path);
        Assert.Equal(new MediaFacts("flac", "MoeFunctions FLAC decoder", 44100, 2, 2.5), src.Facts);
        Assert.Equal(40000, TestAudio.ReadAll(src).Length);
    }

    [Fact]
    public void Ffmpeg_facts_report_the_source_layout()
    {
        string path = MediaFiles.Tone(media.Dir.Path, "facts.m4a", 440, 2.0, 48000, 2, 0.5, "-c:a", "aac");
        using var src = MediaDecoder.OpenFile(path);
        Assert.Equal("ffmpeg", src.Facts.Decoder);
        Assert.Equal((48000, 2), (src.Facts.SampleRate, src.Facts.Channels));
        Assert.NotNull(src.Facts.DurationSeconds);
        Assert.InRange(src.Facts.DurationSeconds!.Value, 1.9, 2.1);
    }

    [Fact]
    public void Mp3_timing_matches_ffmpeg_to_the_sample_at_the_source_rate()
    {
        // The NLayer delay compensation (529 samples) checked at the native rate, before any resampling.
        string path = MediaFiles.Convert(media.Speech, media.Dir.File("native.mp3"), "-c:a", "libmp3lame", "-b:a", "192k", "-ar", "44100", "-ac", "1");
        var (mine, dec) = TestAudio.DecodeNative(path);
        Assert.IsType<Mp3Decoder>(dec);
        double[] reference = MediaFiles.FfmpegDecodeDoubles(path);
        var (lag, corr) = TestAudio.BestLag(mine.AsSpan(0, 60000), reference.AsSpan(0, 60000), 700); // catches both 529 and 576 offsets
        Assert.Equal(0, lag);
        Assert.True(corr > 0.999, $"correlation {corr:F5}");
    }

    [Theory]
    [InlineData("joint")]
    [InlineData("plain")]
    public void Stereo_mp3_is_mixed_to_the_mean_of_its_channels_inside_the_decoder(string stereo)
    {
        // Different speech in each channel, so the channels' spectra (and block types) differ; the decoder mixes them before
        // its synthesis stages: the result must still be ffmpeg's decode averaged over both channels, sample for sample.
        string other = MediaFiles.Speech(media.Dir.Path, "Seven slow ships sailed south, while a whistling wind worried the waves.", "en-gb", "other.wav");
        string path = media.Dir.File($"stereo-{stereo}.mp3");
        MediaFiles.Ffmpeg(["-i", media.Speech, "-i", other, "-filter_complex", "[0:a][1:a]amerge=inputs=2,aresample=44100",
            "-c:a", "libmp3lame", "-b:a", "128k", "-joint_stereo", stereo == "joint" ? "1" : "0"], path);

        var (mine, dec) = TestAudio.DecodeNative(path);
        Assert.Equal((1, 2), (dec.Channels, dec.SourceChannels));
        using (var src = MediaDecoder.OpenFile(path)) Assert.Equal(2, src.Facts.Channels);
        double[] reference = MediaFiles.FfmpegDecodeDoubles(path, "-af", "pan=mono|c0=0.5*c0+0.5*c1");
        var (lag, _) = TestAudio.BestLag(mine.AsSpan(0, 60000), reference.AsSpan(0, 60000), 700);
        Assert.Equal(0, lag);
        double snr = TestAudio.SnrDb(mine, reference); // measured 123 dB for both encodings: the float rounding of two decoders
        Assert.True(snr > 90, $"SNR {snr:F1} dB against ffmpeg's mean of both channels");
    }

    [Fact]
    public void Stereo_opus_is_mixed_to_the_mean_of_its_channels_inside_the_decoder()
    {
        // Different speech in each channel, at two bit rates. The mono decoder mixes inside the codec: its output must be the
        // mean of both channels as Concentus decodes them in stereo (largest difference measured: 2.2e-5, float rounding).
        string other = MediaFiles.Speech(media.Dir.Path, "Seven slow ships sailed south, while a whistling wind worried the waves.", "en-gb", "other-opus.wav");
        foreach (var rate in new[] { "64k", "24k" })
        {
            string path = media.Dir.File($"stereo-{rate}.opus");
            MediaFiles.Ffmpeg(["-i", media.Speech, "-i", other, "-filter_complex", "[0:a][1:a]amerge=inputs=2", "-c:a", "libopus", "-b:a", rate], path);

            var (mine, dec) = TestAudio.DecodeNative(path);
            Assert.Equal((1, 2), (dec.Channels, dec.SourceChannels));
            using (var src = MediaDecoder.OpenFile(path)) Assert.Equal(2, src.Facts.Channels);
            float[] mean = ConcentusStereoMean(path);
            Assert.InRange(mine.Length, mean.Length - 960, mean.Length);
            double maxDiff = 0, energy = 0;
            for (int i = 0; i < mine.Length; i++) { maxDiff = Math.Max(maxDiff, Math.Abs(mine[i] - mean[i])); energy += mean[i] * mean[i]; }
            Assert.True(energy / mine.Length > 1e-4, "the reference decode is silent");
            Assert.True(maxDiff < 1e-4, $"{rate}: largest difference {maxDiff:E2} from the mean of the stereo decode");
        }
    }

    /// <summary>Concentus' stereo decode of an Ogg Opus file at 48 kHz, pre-skip dropped, mixed to the mean of its channels.</summary>
    private static float[] ConcentusStereoMean(string path)
    {
        using var input = new InputStream(File.OpenRead(path), long.MaxValue);
        var ogg = new OggPacketReader(input, "ogg-opus");
        int preSkip = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(ogg.NextPacket()[10..]);
        ogg.NextPacket(); // OpusTags
        var decoder = Concentus.OpusCodecFactory.CreateDecoder(48000, 2);
        var pcm = new float[5760 * 2];
        var mean = new List<float>();
        for (var packet = ogg.NextPacket(); !packet.IsEmpty; packet = ogg.NextPacket())
        {
            int frames = decoder.Decode(packet, pcm, 5760, false);
            for (int i = 0; i < frames; i++) mean.Add((pcm[2 * i] + pcm[2 * i + 1]) / 2);
        }
        return mean.Skip(preSkip).ToArray();
    }
}
