using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>
/// A read failure of the input stream itself (a blob's network stream dropping) is not a verdict on the media: it must
/// surface as the stream's own exception, so a cloud trigger is retried, while malformed media still ends as
/// MediaDecodeException (BadInputTests). Covers every decoder path, at the sniffing stage and mid-stream.
/// </summary>
public sealed class SourceFaultTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    /// <summary>Non-seekable, like a network stream: serves <paramref name="data"/> and throws <paramref name="fault"/> once
    /// <paramref name="failAt"/> bytes were delivered (or ends cleanly there when <paramref name="fault"/> is null).</summary>
    private sealed class FailingStream(byte[] data, int failAt, Exception? fault) : ForwardOnlyStream
    {
        private int _pos;
        public int Throws;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_pos >= failAt)
            {
                if (fault is null) return 0;
                Interlocked.Increment(ref Throws);
                throw fault;
            }
            int n = Math.Min(Math.Min(count, failAt - _pos), data.Length - _pos);
            Array.Copy(data, _pos, buffer, offset, n);
            _pos += n;
            return n;
        }

        public override long Position => _pos;
    }

    /// <summary>Stands in for a storage SDK's exception type, which the audio layer must not know.</summary>
    private sealed class StorageUnavailableException(string message) : Exception(message);

    /// <summary>Every decoder: managed WAV, MP3, FLAC, Vorbis, Opus; ffmpeg through its stdin pump (ADTS AAC) and through a temp file (M4A).</summary>
    public static TheoryData<string> Formats => new() { ".wav", ".mp3", ".flac", ".ogg", ".opus", ".aac", ".m4a" };

    private byte[] Encode(string ext)
    {
        if (ext == ".wav") return File.ReadAllBytes(media.Speech);
        string dst = media.Dir.File("speech" + ext);
        if (!File.Exists(dst))
        {
            string[] args = ext switch
            {
                ".mp3" => ["-c:a", "libmp3lame", "-b:a", "64k"],
                ".ogg" => ["-c:a", "libvorbis"],
                ".opus" => ["-c:a", "libopus"],
                ".aac" => ["-c:a", "aac", "-f", "adts"],
                ".m4a" => ["-c:a", "aac"],
                _ => [],
            };
            MediaFiles.Convert(media.Speech, dst, args);
        }
        return File.ReadAllBytes(dst);
    }

    private static float[] Decode(Stream s)
    {
        using var source = MediaDecoder.Open(s, new DecodeOptions());
        return TestAudio.ReadAll(source);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void An_io_error_while_sniffing_surfaces_as_that_io_error(string ext)
    {
        var data = Encode(ext);
        var fault = new IOException("connection reset by peer (test)");
        var stream = new FailingStream(data, failAt: 100, fault);

        var thrown = Assert.Throws<IOException>(() => Decode(stream));
        Assert.Same(fault, thrown);
        Assert.True(stream.Throws > 0);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void An_io_error_mid_stream_surfaces_as_that_io_error_not_as_bad_media(string ext)
    {
        var data = Encode(ext);
        Assert.True(Decode(new MemoryStream(data)).Length > 16000, "control: the intact file decodes to over a second of audio");

        var fault = new IOException("the response ended prematurely (test)");
        var stream = new FailingStream(data, failAt: data.Length / 2, fault);
        var thrown = Assert.Throws<IOException>(() => Decode(stream));
        Assert.Same(fault, thrown);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void A_non_io_exception_of_the_source_also_surfaces_as_itself(string ext)
    {
        var data = Encode(ext);
        var fault = new StorageUnavailableException("503 Server Busy (test)");
        foreach (int failAt in new[] { 0, data.Length / 2 })
        {
            var thrown = Assert.Throws<StorageUnavailableException>(() => Decode(new FailingStream(data, failAt, fault)));
            Assert.Same(fault, thrown);
        }
    }

    /// <summary>Control: the same cut without a fault is a truncated file, which is about the media (a partial decode or MediaDecodeException), never an IOException.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void The_same_cut_without_a_fault_is_judged_as_media(string ext)
    {
        var data = Encode(ext);
        foreach (int cut in new[] { 100, data.Length / 2 })
        {
            var e = Record.Exception(() => Decode(new FailingStream(data, cut, fault: null)));
            Assert.True(e is null or MediaDecodeException, $"cut at {cut}: {e}");
        }
    }

    [Fact]
    public void Malformed_media_on_a_healthy_stream_is_still_a_media_decode_exception()
    {
        var text = "This is not audio, just text pretending to be a WAV file.\n"u8.ToArray();
        var e = Assert.Throws<MediaDecodeException>(() => Decode(new FailingStream(text, text.Length, fault: null)));
        Assert.Contains("not a media file", e.Message);
    }
}
