using System.Buffers.Binary;
using MoeFunctions.Audio;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Reliability.Tests;

/// <summary>
/// Ogg Vorbis goes to NVorbis through a page check (CheckedOggStream). Without it, the two fuzzer-found inputs hang NVorbis
/// 0.10.5's header reading forever; with it, they and hand-made variants fail with a reason, and valid chains still decode.
/// </summary>
public sealed class OggPageCheckTests
{
    private static byte[] Vorbis => File.ReadAllBytes(SeedMedia.Get.SpeechByFormat["ogg"]);

    [Theory]
    [InlineData("ogg-vorbis-hang-1.ogg", "unsupported Ogg version")] // AFL++ (scripts/fuzz.sh 600, 2026-11-26): spliced pages
    [InlineData("ogg-vorbis-hang-2.ogg", "checksum mismatch")]
    public void Fuzzer_found_hangs_fail_with_a_reason(string name, string reason)
    {
        var outcome = DecodeRunner.RunFile(Path.Combine(AppContext.BaseDirectory, "Inputs", name));
        Assert.True(outcome.Kind == OutcomeKind.Failed, outcome.ToString()); // Hung (DecodeRunner's 10 s) without the page check
        Assert.StartsWith("ogg-vorbis: ", outcome.Reason);
        Assert.Contains(reason, outcome.Reason);
    }

    [Fact]
    public void A_stream_that_begins_twice_is_refused()
    {
        byte[] ogg = Vorbis;
        int first = PageLength(ogg, 0);
        byte[] spliced = [.. ogg.AsSpan(0, first), .. ogg.AsSpan(0, first), .. ogg.AsSpan(first)]; // every CRC still valid
        var outcome = DecodeRunner.Run(() => new MemoryStream(spliced));
        Assert.True(outcome.Kind == OutcomeKind.Failed, outcome.ToString());
        Assert.Contains("begins twice", outcome.Reason);
    }

    [Fact]
    public void A_page_with_a_wrong_checksum_is_refused()
    {
        byte[] ogg = Vorbis;
        int third = PageLength(ogg, 0);
        third += PageLength(ogg, third);
        ogg[third + PageLength(ogg, third) - 1] ^= 0x40; // last body byte of the third page (the first audio page)
        var outcome = DecodeRunner.Run(() => new MemoryStream(ogg));
        Assert.True(outcome.Kind == OutcomeKind.Failed, outcome.ToString());
        Assert.Contains("checksum mismatch", outcome.Reason);
    }

    [Fact]
    public void Unchanged_and_chained_files_still_decode()
    {
        byte[] ogg = Vorbis;
        var single = DecodeRunner.Run(() => new MemoryStream(ogg));
        Assert.True(single.Kind == OutcomeKind.Scored, single.ToString());

        // A chained file (RFC 3533: streams one after another, each with its own serial) is valid Ogg.
        byte[] other = File.ReadAllBytes(MediaFiles.Convert(SeedMedia.Get.SpeechWav, Path.Combine(SeedMedia.Get.Dir, "speech-chain.ogg"), "-c:a", "libvorbis"));
        Assert.NotEqual(Serial(ogg), Serial(other)); // ffmpeg draws each serial at random
        var chained = DecodeRunner.Run(() => new MemoryStream([.. ogg, .. other]));
        Assert.True(chained.Kind == OutcomeKind.Scored, chained.ToString());
        Assert.True(chained.AudioSeconds >= single.AudioSeconds, $"{chained} against {single}");
    }

    private static int PageLength(byte[] ogg, int at)
    {
        Assert.True(ogg.AsSpan(at, 4).SequenceEqual("OggS"u8));
        int segments = ogg[at + 26], body = 0;
        for (int i = 0; i < segments; i++) body += ogg[at + 27 + i];
        return 27 + segments + body;
    }

    private static int Serial(byte[] ogg) => BinaryPrimitives.ReadInt32LittleEndian(ogg.AsSpan(14));
}
