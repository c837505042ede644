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

    [Fact]
    public void A_packet_continued_past_16_MiB_is_refused_before_NVorbis_buffers_it()
    {
        // The identification header's page, then full pages (255 segments of 255 bytes) that all continue one packet:
        // every CRC valid, 16.9 MB in all.
        byte[] ogg = Vorbis;
        int first = PageLength(ogg, 0);
        using var file = new MemoryStream();
        file.Write(ogg, 0, first);
        var rng = new Random(3);
        for (int p = 0; p < 260; p++)
        {
            var page = new byte[27 + 255 + 255 * 255];
            "OggS"u8.CopyTo(page);
            page[5] = (byte)(p == 0 ? 0 : 1);
            BinaryPrimitives.WriteInt64LittleEndian(page.AsSpan(6), -1);
            BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(14), Serial(ogg));
            BinaryPrimitives.WriteInt32LittleEndian(page.AsSpan(18), p + 1);
            page[26] = 255;
            page.AsSpan(27, 255).Fill(255);
            rng.NextBytes(page.AsSpan(27 + 255));
            BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(22), OggCrc(page));
            file.Write(page);
        }
        byte[] bytes = file.ToArray();
        var outcome = DecodeRunner.Run(() => new MemoryStream(bytes));
        Assert.True(outcome.Kind == OutcomeKind.Failed, outcome.ToString());
        Assert.Contains("Ogg packet larger than 16 MiB", outcome.Reason);
    }

    /// <summary>Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial value 0), written out here as an independent check.</summary>
    private static uint OggCrc(byte[] data)
    {
        uint crc = 0;
        foreach (byte b in data)
        {
            crc ^= (uint)b << 24;
            for (int k = 0; k < 8; k++) crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
        }
        return crc;
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
