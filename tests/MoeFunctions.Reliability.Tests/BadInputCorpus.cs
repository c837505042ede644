using System.Buffers.Binary;
using MoeFunctions.Audio;

namespace MoeFunctions.Reliability.Tests;

/// <summary>One hostile input, how to run it, and the outcomes it may end in.</summary>
/// <param name="ReasonContains">For Failed outcomes: a word the reason must contain, so the user learns why.</param>
/// <param name="Check">Extra assertions on the outcome (window counts, memory).</param>
public sealed record BadCase(string Name, Func<SeedMedia, Outcome> Run, OutcomeKind[] Allowed, string? ReasonContains = null,
                             Action<Outcome>? Check = null);

/// <summary>
/// The bad-input corpus of issue 8, generated from <see cref="SeedMedia"/> and hand-made headers.
/// "Failed" means MediaDecodeException with a reason; "NotApplicable" means decoded, no speech window; "Scored" means
/// decoded with speech windows. Crashed and Hung are never allowed.
/// </summary>
public static class BadInputCorpus
{
    private static readonly OutcomeKind[] Failed = [OutcomeKind.Failed];
    private static readonly OutcomeKind[] NotApplicable = [OutcomeKind.NotApplicable];
    private static readonly OutcomeKind[] Scored = [OutcomeKind.Scored];
    private static readonly OutcomeKind[] FailedOrScored = [OutcomeKind.Failed, OutcomeKind.Scored];
    private static readonly OutcomeKind[] FailedOrNotApplicable = [OutcomeKind.Failed, OutcomeKind.NotApplicable];

    public const int TenHoursAt16k = 10 * 3600 * 16000;
    public const long MaxLiveBytes = 32L << 20;

    /// <summary>
    /// Hang deadline for the streamed hour-long inputs. Decoding and speech-testing an hour of audio is real work
    /// (measured in docs/reliability.md); the deadline only catches a hang, it is not a speed claim.
    /// </summary>
    public static readonly TimeSpan LongLimit = TimeSpan.FromSeconds(480);

    public static readonly IReadOnlyList<BadCase> Cases = Build();

    public static BadCase Find(string name) => Cases.Single(c => c.Name == name);

    private static Outcome Bytes(byte[] data, DecodeOptions? options = null) =>
        DecodeRunner.Run(() => new MemoryStream(data, writable: false), options);

    private static byte[] Cut(byte[] data, double fraction) => data[..(int)(data.Length * fraction)];

    private static List<BadCase> Build()
    {
        var cases = new List<BadCase>
        {
            new("control: valid espeak-ng speech WAV", m => DecodeRunner.RunFile(m.SpeechWav), Scored),
            new("empty file", _ => Bytes([]), Failed, "empty"),
            new("one byte", _ => Bytes([0x52]), Failed, "short"),
            new("three bytes 'RIF'", _ => Bytes("RIF"u8.ToArray()), Failed, "short"),
        };

        // Truncations of real files: inside the header, early, late.
        foreach (var format in new[] { "wav", "mp3", "flac", "ogg", "opus" })
        {
            cases.Add(new($"truncated {format} at 16 bytes", m => Bytes(m.Bytes(format)[..16]), Failed));
            cases.Add(new($"truncated {format} at 30%", m => Bytes(Cut(m.Bytes(format), 0.3)), FailedOrScored));
            cases.Add(new($"truncated {format} at 85%", m => Bytes(Cut(m.Bytes(format), 0.85)), FailedOrScored));
        }

        byte[] tone16 = new byte[16000 * 2 * 4]; // 4 s of a 16-bit square-ish pattern: content does not matter for header cases
        for (int i = 0; i < tone16.Length / 2; i++) BinaryPrimitives.WriteInt16LittleEndian(tone16.AsSpan(2 * i), (short)((i / 20 % 2 == 0) ? 8000 : -8000));
        cases.AddRange(
        [
            new("RIFF size larger than the file", _ => Bytes(SyntheticWav.File(16000, 1, 16, tone16, riffSize: 0x7FFF_FFF0)), NotApplicable),
            new("data chunk size larger than the file", _ => Bytes(SyntheticWav.File(16000, 1, 16, tone16, declaredDataSize: 0x7FFF_FFF0)), FailedOrNotApplicable),
            new("data chunk size twice the file", _ => Bytes(SyntheticWav.File(16000, 1, 16, tone16, declaredDataSize: (uint)tone16.Length * 2)), NotApplicable,
                Check: o => Assert.Equal(4, o.AudioSeconds, 3)), // read to the real end of input, no more
            new("sample rate 0 Hz", _ => Bytes(SyntheticWav.File(0, 1, 16, tone16)), Failed, "sample rate"),
            new("sample rate 1 Hz", _ => Bytes(SyntheticWav.File(1, 1, 16, tone16)), Failed, "sample rate"),
            new("sample rate 10,000,000 Hz", _ => Bytes(SyntheticWav.File(10_000_000, 1, 16, tone16)), Failed, "sample rate"),
            new("0 channels", _ => Bytes(SyntheticWav.File(16000, 0, 16, tone16)), Failed, "channel"),
            new("65,535 channels", _ => Bytes(SyntheticWav.File(16000, 65535, 16, tone16)), Failed, "channel"),
            new("fmt chunk of 4 GiB", _ => Bytes(FmtSize(SyntheticWav.File(16000, 1, 16, tone16), uint.MaxValue)), Failed, "fmt"),
            new("header only, no samples", _ => Bytes(SyntheticWav.Header(16000, 1, 16, 0, declaredDataSize: 1000)), Failed, "no audio"),
            new("block align not a multiple of channels", _ => Bytes(BlockAlign(SyntheticWav.File(16000, 2, 16, tone16), 3)), Failed, "block align"),
            new("unsupported WAV encoding tag (mu-law) without ffmpeg",
                _ => Bytes(SyntheticWav.File(8000, 1, 8, tone16, tag: 7), new DecodeOptions { FfmpegPath = "/nonexistent/ffmpeg" }), Failed, "ffmpeg"),
            new("all samples NaN (float WAV)", _ => Bytes(SyntheticWav.Float32(16000, 64000, float.NaN)), NotApplicable),
            new("all samples +/-infinity (float WAV)", _ => Bytes(SyntheticWav.Float32(16000, 64000, float.PositiveInfinity, float.NegativeInfinity)), NotApplicable),
            new("speech with NaN and infinity sprinkled in", m => Bytes(SprinkleNonFinite(m)), Scored),
            new("an hour of digital silence (streamed)", _ => HourOfSilence(), NotApplicable, Check: o =>
            {
                Assert.Equal(1200, o.Windows);
                Assert.Equal(3600, o.AudioSeconds, 3);
                // 115 MB went through; the live heap stays at a few windows' worth instead of growing with the file.
                Assert.InRange(o.PeakLiveBytes, long.MinValue, MaxLiveBytes);
            }),
            new("10-hour WAV stating its length, default 6 h limit", _ => TenHours(stateLength: true, DecodeOptions.Default), Failed, "MaxDurationSeconds"),
            new("10-hour WAV of unstated length, 1 h limit", _ => TenHours(stateLength: false, new DecodeOptions { MaxDurationSeconds = 3600 }),
                Failed, "longer than the limit", o =>
            {
                // Stopped at the limit while streaming: about an hour of windows, not ten.
                Assert.InRange(o.AudioSeconds, 3500, 3600);
                Assert.InRange(o.PeakLiveBytes, long.MinValue, MaxLiveBytes);
            }),
            new("WAV header promising 4 GiB at 8 kHz 8-bit (149 h)",
                _ => Bytes(SyntheticWav.File(8000, 1, 8, new byte[8000 * 2], riffSize: uint.MaxValue - 1, declaredDataSize: uint.MaxValue - 8)), Failed, "MaxDurationSeconds"),
            new("RF64 header promising 4 TiB", _ => Bytes(Rf64Terabytes()), FailedOrNotApplicable),
            new("MP3 with garbage frames in the middle", m => Bytes(GarbageInMiddle(m.Bytes("mp3"))), Scored),
            new("FLAC with garbage in the middle", m => Bytes(GarbageInMiddle(m.Bytes("flac"))), FailedOrScored),
            new("Ogg Vorbis with garbage in the middle", m => Bytes(GarbageInMiddle(m.Bytes("ogg"))), FailedOrScored),
            new("ID3 tag claiming 256 MiB then garbage", _ => Bytes([.. "ID3"u8, 4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F, .. new byte[2000]]), Failed),
            new("fLaC magic then garbage", _ => Bytes([.. "fLaC"u8, .. Garbage(5000, 7)]), Failed, "flac"),
            new("OggS magic then garbage", _ => Bytes([.. "OggS"u8, .. Garbage(5000, 8)]), Failed),
            new("random bytes", _ => Bytes(Garbage(20000, 9)), Failed),
            new("video container without an audio track", m => DecodeRunner.RunFile(m.VideoWithoutAudio), Failed, "no audio"),
            new("pure tone 440 Hz", m => DecodeRunner.RunFile(m.Tone), NotApplicable),
            new("white noise", m => DecodeRunner.RunFile(m.Noise), NotApplicable),
            new("music-like held chord", m => DecodeRunner.RunFile(m.Chords), NotApplicable),
        ]);

        foreach (var ext in new[] { "wav", "mp3" })
        {
            cases.Add(new($"text named .{ext}", m => DecodeRunner.RunFile(m.Write($"notes.{ext}", m.Text)), Failed, "not a media file"));
            cases.Add(new($"PDF named .{ext}", m => DecodeRunner.RunFile(m.Write($"doc.{ext}", m.Pdf)), Failed, "PDF"));
            cases.Add(new($"PNG named .{ext}", m => DecodeRunner.RunFile(m.Write($"image.{ext}", m.Png)), Failed, "PNG"));
            cases.Add(new($"ZIP named .{ext}", m => DecodeRunner.RunFile(m.Write($"archive.{ext}", m.Zip)), Failed, "ZIP"));
        }
        cases.Add(new("HLS playlist named .mp3", m => DecodeRunner.RunFile(m.Write("list.mp3", "#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"u8.ToArray())), Failed));

        foreach (var name in new[] { "my voice memo.wav", "it's \"quoted\".wav", "-i evil.wav", "ünïcødé 语音 🎙.wav", "sub/../dot-dot.wav" })
            cases.Add(new($"file name: {name}", m => DecodeRunner.RunFile(m.Write(name, File.ReadAllBytes(m.SpeechWav))), Scored));
        return cases;
    }

    private static byte[] FmtSize(byte[] wav, uint size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(wav.AsSpan(16), size);
        return wav;
    }

    private static byte[] BlockAlign(byte[] wav, ushort align)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(wav.AsSpan(32), align);
        return wav;
    }

    public static byte[] Garbage(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Replaces the middle fifth of the file with random bytes (sync words, frame headers and CRCs all broken).</summary>
    private static byte[] GarbageInMiddle(byte[] data)
    {
        var copy = (byte[])data.Clone();
        int start = copy.Length * 2 / 5, len = copy.Length / 5;
        Garbage(len, 11).CopyTo(copy.AsSpan(start));
        return copy;
    }

    private static byte[] SprinkleNonFinite(SeedMedia m)
    {
        // The speech as float samples with every 97th one NaN and every 89th one infinite.
        var pcm = TestSupport.MediaFiles.FfmpegDecode(m.SpeechWav, "-f", "f32le", "-ac", "1");
        var samples = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(pcm).ToArray();
        for (int i = 0; i < samples.Length; i++)
            if (i % 97 == 0) samples[i] = float.NaN;
            else if (i % 89 == 0) samples[i] = i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity;
        return SyntheticWav.File(22050, 1, 32, System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()), tag: 3);
    }

    /// <summary>RF64: RIFF for files over 4 GiB; the ds64 chunk states a 4 TiB data size over 1 s of real samples.</summary>
    private static byte[] Rf64Terabytes()
    {
        const long tb4 = 4L << 40;
        var w = new List<byte>();
        void U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); w.AddRange(b); }
        void U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); w.AddRange(b); }
        void U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); w.AddRange(b); }
        w.AddRange("RF64"u8.ToArray()); U32(uint.MaxValue); w.AddRange("WAVE"u8.ToArray());
        w.AddRange("ds64"u8.ToArray()); U32(28); U64(tb4 + 100); U64(tb4); U64(tb4 / 2); U32(0);
        w.AddRange("fmt "u8.ToArray()); U32(16); U16(1); U16(1); U32(16000); U32(32000); U16(2); U16(16);
        w.AddRange("data"u8.ToArray()); U32(uint.MaxValue);
        w.AddRange(new byte[32000]);
        return [.. w];
    }

    public static Outcome HourOfSilence()
    {
        long bytes = 3600L * 16000 * 2;
        return DecodeRunner.Run(() => new SynthWavStream(SyntheticWav.Header(16000, 1, 16, bytes), bytes), limit: LongLimit, trackMemory: true);
    }

    /// <summary>Ten hours of 16 kHz 16-bit mono silence (1.15 GB) synthesised on the fly; the header states the length or leaves it open (0xFFFFFFFF, as streaming writers do).</summary>
    public static Outcome TenHours(bool stateLength, DecodeOptions options, TimeSpan? limit = null)
    {
        long bytes = 2L * TenHoursAt16k;
        var header = SyntheticWav.Header(16000, 1, 16, bytes, riffSize: uint.MaxValue, declaredDataSize: stateLength ? (uint)bytes : uint.MaxValue);
        return DecodeRunner.Run(() => new SynthWavStream(header, bytes), options, limit ?? LongLimit, trackMemory: true);
    }
}
