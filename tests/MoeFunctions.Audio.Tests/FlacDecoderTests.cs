using System.Buffers.Binary;
using MoeFunctions.Audio.Decoding;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>Our FLAC decoder against ffmpeg's decode, bit for bit, on files made by the reference encoder (flac) and by ffmpeg.</summary>
public sealed class FlacDecoderTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    // Per channel: silence (CONSTANT subframes), tones with a slow envelope (LPC/FIXED), and full-scale noise bursts (VERBATIM).
    private static string Expression(int channel) =>
        $"if(lt(t\\,0.25)\\,0\\,if(lt(mod(t\\,0.5)\\,0.08)\\,0.999*(2*random({channel})-1)\\,0.6*sin(2*PI*{220 + 110 * channel}*t)*sin(2*PI*2*t)+0.05*sin(2*PI*3100*t)))";

    public static TheoryData<string, string, int, int, int> Cases => new()
    {
        // encoder, options, bits, rate, channels
        { "flac", "-0", 16, 44100, 2 },
        { "flac", "-5", 16, 48000, 1 },
        { "flac", "-8", 24, 96000, 2 },
        { "flac", "-8", 24, 44100, 6 },
        { "flac", "-5", 8, 22050, 2 },
        { "flac", "-5", 32, 16000, 1 },
        { "flac", "-5 wasted", 24, 32000, 2 },      // 16-bit content in a 24-bit stream: wasted bits
        { "ffmpeg", "0", 16, 8000, 1 },
        { "ffmpeg", "5", 24, 48000, 2 },
        { "ffmpeg", "12", 16, 44100, 2 },           // LPC orders up to 32
        { "ffmpeg", "5 ch_mode=1", 16, 44100, 2 },  // left/side
        { "ffmpeg", "5 ch_mode=2", 16, 44100, 2 },  // side/right
        { "ffmpeg", "5 ch_mode=3", 16, 44100, 2 },  // mid/side
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decodes_bit_exact_against_ffmpeg(string encoder, string options, int bits, int rate, int channels)
    {
        string path = Encode(encoder, options, bits, rate, channels);
        var (mine, dec) = TestAudio.DecodeNative(path);
        var flac = Assert.IsType<FlacDecoder>(dec);
        Assert.Equal((rate, channels, bits), (flac.SampleRate, flac.Channels, flac.BitsPerSample));

        // ffmpeg 5.1 (Debian 12) cannot decode 32-bit FLAC; there the reference decoder (flac -d) is the judge.
        byte[] s32 = bits == 32
            ? MediaFiles.Run("flac", ["-d", "-s", "-c", "--force-raw-format", "--endian=little", "--sign=signed", path])
            : MediaFiles.FfmpegDecode(path, "-f", "s32le", "-c:a", "pcm_s32le");
        Assert.Equal(s32.Length / 4, mine.Length);
        double scale = Math.Pow(2, bits - 1);
        long worst = 0;
        for (int i = 0; i < mine.Length; i++)
        {
            long reference = BinaryPrimitives.ReadInt32LittleEndian(s32.AsSpan(4 * i)) >> (32 - bits);
            long got = (long)Math.Round(mine[i] * scale);
            worst = Math.Max(worst, Math.Abs(got - reference));
        }
        // Up to 24 bits a float holds every sample exactly; 32-bit samples are rounded to float (24-bit mantissa).
        Assert.True(worst <= (bits == 32 ? 256 : 0), $"largest difference {worst} LSB");
    }

    [Fact]
    public void Test_files_cover_every_subframe_type_and_channel_mode()
    {
        // Proves the bit-exact cases above exercise the whole decoder: read with libFLAC's own analyser.
        var seen = new HashSet<string>();
        foreach (var c in Cases)
        {
            string path = Encode((string)c[0], (string)c[1], (int)c[2], (int)c[3], (int)c[4]);
            string ana = path + ".ana";
            MediaFiles.Run("flac", ["-a", "-s", "-f", path, "-o", ana]);
            foreach (var line in File.ReadLines(ana))
            {
                foreach (var key in new[] { "type=CONSTANT", "type=VERBATIM", "type=FIXED", "type=LPC", "INDEPENDENT", "LEFT_SIDE", "RIGHT_SIDE", "MID_SIDE" })
                    if (line.Contains(key)) seen.Add(key);
                if (line.Contains("wasted_bits=") && !line.Contains("wasted_bits=0")) seen.Add("wasted");
                if (line.Contains("order=") && int.TryParse(line.Split("order=")[1].Split('\t')[0], out int order) && line.Contains("type=LPC") && order > 12) seen.Add("lpc>12");
            }
        }
        Assert.Equal(["INDEPENDENT", "LEFT_SIDE", "MID_SIDE", "RIGHT_SIDE", "lpc>12", "type=CONSTANT", "type=FIXED", "type=LPC", "type=VERBATIM", "wasted"],
            seen.Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void Handmade_stream_with_escape_codes_and_variable_block_size_matches_its_samples_and_ffmpeg()
    {
        // No encoder here writes Rice escape codes or variable block sizes, so the test writes such a stream itself.
        var (bytes, expected) = HandmadeFlac.Build();
        string path = media.Dir.File("handmade.flac");
        File.WriteAllBytes(path, bytes);
        var (mine, _) = TestAudio.DecodeNative(path);
        Assert.Equal(expected, mine.Select(v => (int)Math.Round(v * 32768)).ToArray());
        byte[] s16 = MediaFiles.FfmpegDecode(path, "-f", "s16le");
        var ffmpeg = Enumerable.Range(0, s16.Length / 2).Select(i => (int)BinaryPrimitives.ReadInt16LittleEndian(s16.AsSpan(2 * i))).ToArray();
        Assert.Equal(expected, ffmpeg);
    }

    [Fact]
    public void Corrupted_frame_fails_with_a_crc_reason()
    {
        string path = Encode("flac", "-5", 16, 44100, 2);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        var e = Assert.Throws<MediaDecodeException>(() => TestAudio.DecodeFile(Write("flipped.flac", bytes)));
        Assert.Matches("flac: (CRC|.*corrupt|.*invalid|.*reserved|.*exceeds|.*does not fit)", e.Message);
    }

    [Fact]
    public void Truncated_stream_decodes_the_complete_frames_and_stops()
    {
        string path = Encode("flac", "-5", 16, 44100, 2);
        byte[] bytes = File.ReadAllBytes(path);
        var cut = bytes.AsSpan(0, bytes.Length * 2 / 3).ToArray();
        var (mine, _) = TestAudio.DecodeNative(Write("cut.flac", cut));
        var full = MediaFiles.FfmpegDecode(path, "-f", "s16le");
        Assert.InRange(mine.Length, 1, full.Length / 2 - 1);
        for (int i = 0; i < mine.Length; i++)
            Assert.Equal(BinaryPrimitives.ReadInt16LittleEndian(full.AsSpan(2 * i)), (int)Math.Round(mine[i] * 32768));
    }

    private string Write(string name, byte[] bytes)
    {
        string p = media.Dir.File(name);
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private string Encode(string encoder, string options, int bits, int rate, int channels)
    {
        string name = $"{encoder}-{options.Replace(' ', '_').Replace('=', '_')}-{bits}-{rate}-{channels}";
        string flacPath = media.Dir.File(name + ".flac");
        if (File.Exists(flacPath)) return flacPath;
        string expr = string.Join('|', Enumerable.Range(0, channels).Select(Expression));
        bool wasted = options.Contains("wasted");
        string codec = (wasted ? 16 : bits) switch { 8 => "pcm_u8", 16 => "pcm_s16le", 24 => "pcm_s24le", _ => "pcm_s32le" };
        string wav = MediaFiles.Synth(media.Dir.Path, name + ".wav", expr, 1.2, rate, channels, "-c:a", codec);
        if (wasted) wav = MediaFiles.Convert(wav, media.Dir.File(name + ".24.wav"), "-c:a", "pcm_s24le");
        if (encoder == "flac")
            MediaFiles.Run("flac", ["-s", "-f", options.Split(' ')[0], wav, "-o", flacPath]);
        else
        {
            var args = new List<string> { "-i", wav, "-compression_level", options.Split(' ')[0] };
            if (options.Contains("ch_mode=")) args.AddRange(["-ch_mode", options.Split("ch_mode=")[1]]);
            if (bits == 24) args.AddRange(["-sample_fmt", "s32"]);
            MediaFiles.Ffmpeg(args, flacPath);
        }
        return flacPath;
    }
}

/// <summary>Writes a small FLAC stream by hand: variable block sizes (100 then 57), FIXED subframes, a Rice partition and escaped partitions.</summary>
internal static class HandmadeFlac
{
    public static (byte[] Bytes, int[] Samples) Build()
    {
        var rng = new Random(7);
        var block1 = Enumerable.Range(0, 100).Select(_ => rng.Next(-3000, 3000)).ToArray();
        var block2 = Enumerable.Range(0, 57).Select(i => 1000 + 37 * i).ToArray(); // a line: order-2 residual is all zero
        var output = new List<byte>();
        output.AddRange("fLaC"u8.ToArray());
        var si = new BitWriter();
        si.Write(0x80, 8); si.Write(34, 24);                          // last metadata block, STREAMINFO, length 34
        si.Write(57, 16); si.Write(100, 16); si.Write(0, 24); si.Write(0, 24);
        si.Write(16000, 20); si.Write(0, 3); si.Write(15, 5); si.Write(0, 4); si.Write(157, 32);
        for (int i = 0; i < 16; i++) si.Write(0, 8);                  // MD5 unknown
        output.AddRange(si.ToArray());
        output.AddRange(Frame(0, block1, w =>
        {
            w.Write(0, 1); w.Write(8, 6); w.Write(0, 1);               // FIXED order 0
            w.Write(0, 2); w.Write(1, 4);                              // Rice 4-bit parameters, partition order 1
            w.Write(12, 4); foreach (int r in block1[..50]) w.WriteRice(r, 12);
            w.Write(15, 4); w.Write(14, 5); foreach (int r in block1[50..]) w.WriteSigned(r, 14); // escape: raw 14-bit
        }));
        output.AddRange(Frame(100, block2, w =>
        {
            w.Write(0, 1); w.Write(10, 6); w.Write(0, 1);              // FIXED order 2
            w.WriteSigned(block2[0], 16); w.WriteSigned(block2[1], 16);
            w.Write(1, 2); w.Write(0, 4);                              // Rice 5-bit parameters, one partition
            w.Write(31, 5); w.Write(0, 5);                             // escape with 0 raw bits: all residuals zero
        }));
        return (output.ToArray(), [.. block1, .. block2]);
    }

    private static byte[] Frame(int firstSample, int[] block, Action<BitWriter> subframe)
    {
        var w = new BitWriter();
        w.Write(0x7FFC, 15); w.Write(1, 1);                           // sync + variable block size
        w.Write(6, 4); w.Write(0, 4); w.Write(0, 4); w.Write(4, 3); w.Write(0, 1); // 8-bit size follows, rate from STREAMINFO, mono, 16-bit
        w.Write(firstSample, 8);                                       // coded sample number (< 128: one byte)
        w.Write(block.Length - 1, 8);
        w.Write(Crc8(w.ToArray()), 8);
        subframe(w);
        w.Align();
        var body = w.ToArray();
        w.Write(Crc16(body), 16);
        return w.ToArray();
    }

    private static int Crc8(byte[] d) { int c = 0; foreach (byte b in d) { c ^= b; for (int k = 0; k < 8; k++) c = (c & 0x80) != 0 ? ((c << 1) ^ 7) & 0xFF : (c << 1) & 0xFF; } return c; }
    private static int Crc16(byte[] d) { int c = 0; foreach (byte b in d) { c ^= b << 8; for (int k = 0; k < 8; k++) c = (c & 0x8000) != 0 ? ((c << 1) ^ 0x8005) & 0xFFFF : (c << 1) & 0xFFFF; } return c; }

    private sealed class BitWriter
    {
        private readonly List<bool> _bits = [];
        public void Write(long value, int n) { for (int i = n - 1; i >= 0; i--) _bits.Add(((value >> i) & 1) != 0); }
        public void WriteSigned(long value, int n) => Write(value & ((1L << n) - 1), n);
        public void WriteRice(int v, int k)
        {
            uint u = (uint)((v << 1) ^ (v >> 31));
            for (uint q = u >> k; q > 0; q--) _bits.Add(false);
            _bits.Add(true);
            Write(u & ((1u << k) - 1), k);
        }
        public void Align() { while (_bits.Count % 8 != 0) _bits.Add(false); }
        public byte[] ToArray()
        {
            var bytes = new byte[(_bits.Count + 7) / 8];
            for (int i = 0; i < _bits.Count; i++) if (_bits[i]) bytes[i / 8] |= (byte)(0x80 >> (i % 8));
            return bytes;
        }
    }
}
