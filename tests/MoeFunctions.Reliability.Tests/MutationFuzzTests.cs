using System.Buffers.Binary;
using MoeFunctions.Fuzz;
using MoeFunctions.TestSupport;
using Xunit.Abstractions;

namespace MoeFunctions.Reliability.Tests;

/// <summary>
/// The short fuzz run of the normal suite: the fuzz harness's own entry point (fuzz/MoeFunctions.Fuzz/FuzzTarget.cs)
/// over real seed files and deterministic mutations of them (byte flips, truncations, chunk-size edits, spliced and
/// zeroed ranges). Needs no instrumentation; coverage-guided runs use scripts/fuzz.sh. Only MediaDecodeException may
/// escape the audio layer, and no input may hang.
/// </summary>
public sealed class MutationFuzzTests(ITestOutputHelper output)
{
    public const int MutationsPerSeed = 400;
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(10);

    /// <summary>Short (1.2 s) real files in every managed-decoder format, so one input costs one window.</summary>
    public static IReadOnlyDictionary<string, byte[]> Seeds { get; } = MakeSeeds();

    private static Dictionary<string, byte[]> MakeSeeds()
    {
        var m = SeedMedia.Get;
        string dir = Directory.CreateDirectory(Path.Combine(m.Dir, "fuzz-seeds")).FullName;
        string Make(string name, params string[] args) => MediaFiles.Ffmpeg(["-i", m.SpeechWav, "-t", "1.2", .. args], Path.Combine(dir, name));
        return new Dictionary<string, byte[]>
        {
            ["wav-s16"] = File.ReadAllBytes(Make("s16.wav")),
            ["wav-f32-stereo-44k"] = File.ReadAllBytes(Make("f32.wav", "-c:a", "pcm_f32le", "-ac", "2", "-ar", "44100")),
            ["wav-u8-8k"] = File.ReadAllBytes(Make("u8.wav", "-c:a", "pcm_u8", "-ar", "8000")),
            ["mp3"] = File.ReadAllBytes(Make("s.mp3", "-c:a", "libmp3lame", "-b:a", "32k")),
            ["flac"] = File.ReadAllBytes(Make("s.flac", "-c:a", "flac")),
            ["ogg-vorbis"] = File.ReadAllBytes(Make("s.ogg", "-c:a", "libvorbis")),
            ["ogg-opus"] = File.ReadAllBytes(Make("s.opus", "-c:a", "libopus", "-b:a", "16k")),
        };
    }

    public static TheoryData<string> SeedNames()
    {
        var d = new TheoryData<string>();
        foreach (var k in Seeds.Keys) d.Add(k);
        return d;
    }

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void Seed_decodes(string seed) => Assert.True(FuzzTarget.Run(Seeds[seed]) >= 1, $"seed {seed} must decode, or the mutations test nothing");

    [Theory]
    [MemberData(nameof(SeedNames))]
    public void Mutations_raise_only_MediaDecodeException(string seed)
    {
        var rng = new Random(StableHash(seed)); // string.GetHashCode is randomised per process; runs must repeat exactly
        var failures = new List<string>();
        int refused = 0, decoded = 0;
        for (int i = 0; i < MutationsPerSeed; i++)
        {
            var (input, how) = Mutate(Seeds[seed], rng);
            var run = Task.Run(() => FuzzTarget.Run(input));
            try
            {
                if (!run.Wait(PerInput)) { failures.Add($"#{i} {how}: hang"); Save(seed, i, input); continue; }
                if (run.Result < 0) refused++; else decoded++;
            }
            catch (AggregateException e)
            {
                failures.Add($"#{i} {how}: {e.InnerException!.GetType().Name}: {e.InnerException.Message}");
                Save(seed, i, input);
            }
        }
        output.WriteLine($"{seed}: {MutationsPerSeed} mutations, {decoded} decoded, {refused} refused with MediaDecodeException, {failures.Count} failures");
        foreach (var f in failures) output.WriteLine(f);
        Assert.Empty(failures);
    }

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s) h = h * 31 + c;
        return h;
    }

    /// <summary>Crashing inputs are kept under $TMPDIR/moe-fuzz-crashes for a regression test.</summary>
    private static void Save(string seed, int i, byte[] input)
    {
        string dir = Path.Combine(Path.GetTempPath(), "moe-fuzz-crashes");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, $"{seed}-{i}.bin"), input);
    }

    /// <summary>One deterministic mutation: what it did is returned for the failure message.</summary>
    public static (byte[] Data, string How) Mutate(byte[] seed, Random rng)
    {
        var d = (byte[])seed.Clone();
        int len = d.Length;
        switch (rng.Next(7))
        {
            case 0:
            {
                int n = 1 + rng.Next(8);
                for (int k = 0; k < n; k++) d[rng.Next(len)] ^= (byte)(1 << rng.Next(8));
                return (d, $"{n} bit flips");
            }
            case 1:
            {
                int n = 1 + rng.Next(16), at = rng.Next(Math.Min(len, 512)); // headers live at the front
                for (int k = 0; k < n && at + k < len; k++) d[at + k] = (byte)rng.Next(256);
                return (d, $"{n} random bytes at header offset {at}");
            }
            case 2:
            {
                int cut = rng.Next(len);
                return (d[..cut], $"truncated to {cut}");
            }
            case 3:
            {
                // Chunk/size fields: overwrite an aligned 32-bit word near the front with an extreme value.
                uint[] extremes = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, (uint)len, (uint)len + 1, 65535];
                int at = Math.Min(len - 4, rng.Next(Math.Min(len, 256) / 2) * 2);
                uint v = extremes[rng.Next(extremes.Length)];
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(at), v);
                return (d, $"u32 0x{v:X} at {at}");
            }
            case 4:
            {
                int at = Math.Min(len - 2, rng.Next(Math.Min(len, 256)));
                ushort v = (ushort)(rng.Next(2) == 0 ? 0 : rng.Next(2) == 0 ? 0xFFFF : rng.Next(65536));
                BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(at), v);
                return (d, $"u16 0x{v:X} at {at}");
            }
            case 5:
            {
                int from = rng.Next(len), n = rng.Next(Math.Min(4096, len - from) + 1);
                d.AsSpan(from, n).Clear();
                return (d, $"zeroed {n} at {from}");
            }
            default:
            {
                // Splice: a block copied from elsewhere in the file (duplicated frames, misplaced sync words).
                int src = rng.Next(len), n = rng.Next(Math.Min(2048, len - src) + 1), at = rng.Next(len);
                var spliced = new byte[len + n];
                d.AsSpan(0, at).CopyTo(spliced);
                d.AsSpan(src, n).CopyTo(spliced.AsSpan(at));
                d.AsSpan(at).CopyTo(spliced.AsSpan(at + n));
                return (spliced, $"spliced {n} from {src} at {at}");
            }
        }
    }
}
