using System.Buffers.Binary;

namespace MoeFunctions.Corpus;

/// <summary>Mono float audio at a known rate.</summary>
public sealed record Signal(float[] Samples, int Rate)
{
    public double DurationS => Samples.Length / (double)Rate;

    /// <summary>
    /// Decodes a file to mono float at <paramref name="rate"/>. WAV and Ogg Vorbis decode in process, FLAC with
    /// the light `flac` tool, anything else with ffmpeg (whose start-up costs far more than a short clip's work).
    /// </summary>
    public static Signal Decode(string path, int rate = 16000, string? inputFormat = null)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        Signal s = (ext, inputFormat) switch
        {
            (".wav", null) => ReadWav(path),
            (".flac", null) => ParseWav(ProcessRunner.Run("flac", ["-d", "-c", "--silent", path])),
            (".ogg", null) => ReadVorbis(path),
            (".mp3", null) => ParseWav(ProcessRunner.Run("lame", ["--quiet", "--decode", path, "-"])),
            _ => FfmpegDecode(path, inputFormat),
        };
        return SignalOps.Resample(s, rate);
    }

    static Signal FfmpegDecode(string path, string? inputFormat)
    {
        var args = new List<string> { "-nostdin", "-loglevel", "error" };
        if (inputFormat is not null) { args.Add("-f"); args.Add(inputFormat); }
        args.AddRange(["-i", path, "-ac", "1", "-ar", "16000", "-f", "f32le", "-"]);
        return new Signal(FromF32(ProcessRunner.Run("ffmpeg", args)), 16000);
    }

    static Signal ReadVorbis(string path)
    {
        using var r = new NVorbis.VorbisReader(path);
        var all = new List<float>();
        var buf = new float[4096 * r.Channels];
        int n;
        while ((n = r.ReadSamples(buf, 0, buf.Length)) > 0)
            for (int i = 0; i < n; i += r.Channels) all.Add(buf[i]); // first channel
        return new Signal(all.ToArray(), r.SampleRate);
    }

    public static float[] FromF32(byte[] bytes)
    {
        var f = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, f, 0, f.Length * 4);
        return f;
    }

    public byte[] ToF32()
    {
        var b = new byte[Samples.Length * 4];
        Buffer.BlockCopy(Samples, 0, b, 0, b.Length);
        return b;
    }

    /// <summary>Parses a PCM16 or float32 RIFF WAV (mono or first channel), as espeak-ng/flite/festival write it.</summary>
    public static Signal ParseWav(ReadOnlySpan<byte> b)
    {
        if (b.Length < 12 || b[0] != 'R' || b[1] != 'I' || b[8] != 'W') throw new FormatException("not a RIFF WAV");
        int pos = 12, rate = 0, channels = 1, bits = 16, format = 1;
        while (pos + 8 <= b.Length)
        {
            var id = System.Text.Encoding.ASCII.GetString(b.Slice(pos, 4));
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(pos + 4));
            int body = pos + 8;
            if (id == "fmt ")
            {
                format = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(body));
                channels = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(body + 2));
                rate = BinaryPrimitives.ReadInt32LittleEndian(b.Slice(body + 4));
                bits = BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(body + 14));
            }
            else if (id == "data")
            {
                // Streamed WAVs (espeak-ng --stdout) carry a bogus size: read to the end.
                long avail = b.Length - body;
                int len = (int)Math.Min(avail, size == 0 || size > avail ? avail : size);
                if (rate == 0) throw new FormatException("WAV data before fmt chunk");
                int frameBytes = channels * bits / 8;
                int n = len / frameBytes;
                var s = new float[n];
                for (int i = 0; i < n; i++)
                {
                    var fr = b.Slice(body + i * frameBytes);
                    s[i] = (format, bits) switch
                    {
                        (1, 16) => BinaryPrimitives.ReadInt16LittleEndian(fr) / 32768f,
                        (3, 32) => BinaryPrimitives.ReadSingleLittleEndian(fr),
                        _ => throw new FormatException($"unsupported WAV format {format}/{bits} bit"),
                    };
                }
                return new Signal(s, rate);
            }
            pos = body + (int)size + ((int)size & 1);
        }
        throw new FormatException("WAV has no data chunk");
    }

    public static Signal ReadWav(string path) => ParseWav(File.ReadAllBytes(path));

    /// <summary>16-bit PCM mono WAV, written to a temp name then renamed so a crash never leaves a half file.</summary>
    public void WriteWav(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        int n = Samples.Length;
        var b = new byte[44 + n * 2];
        void Ascii(int at, string s) { for (int i = 0; i < 4; i++) b[at + i] = (byte)s[i]; }
        Ascii(0, "RIFF"); BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4), 36 + n * 2); Ascii(8, "WAVE");
        Ascii(12, "fmt "); BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(20), 1); BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(22), 1);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(24), Rate); BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(28), Rate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(32), 2); BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(34), 16);
        Ascii(36, "data"); BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(40), n * 2);
        for (int i = 0; i < n; i++)
        {
            float v = Math.Clamp(Samples[i], -1f, 32767f / 32768f);
            BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(44 + i * 2), (short)MathF.Round(v * 32768f));
        }
        var tmp = path + ".part";
        File.WriteAllBytes(tmp, b);
        File.Move(tmp, path, true);
    }
}
