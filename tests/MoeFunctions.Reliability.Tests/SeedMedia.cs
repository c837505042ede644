using System.IO.Compression;
using System.Text;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Reliability.Tests;

/// <summary>
/// Real media made once per test run with espeak-ng and ffmpeg (scripts/deps/audio.apt): the seeds that the bad-input
/// corpus cuts and corrupts, plus non-speech signals and non-media files. Deleted when the test process exits.
/// </summary>
public sealed class SeedMedia
{
    private static readonly Lazy<SeedMedia> Instance = new(() => new SeedMedia());
    public static SeedMedia Get => Instance.Value;

    public string Dir { get; }
    public string SpeechWav { get; }
    public IReadOnlyDictionary<string, string> SpeechByFormat { get; }
    public string Tone { get; }
    public string Noise { get; }
    public string Chords { get; }
    public string VideoWithoutAudio { get; }
    public byte[] Png { get; }
    public byte[] Zip { get; }
    public byte[] Pdf { get; } = Encoding.ASCII.GetBytes(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
        "trailer << /Root 1 0 R >>\n%%EOF\n");
    public byte[] Text { get; } = Encoding.UTF8.GetBytes("This is a plain text file that someone renamed to look like audio.\nLine two.\n");

    private SeedMedia()
    {
        var tmp = MediaFiles.NewTempDir("moe-reliability");
        Dir = tmp.Path;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => tmp.Dispose();
        SpeechWav = MediaFiles.Speech(Dir, "Please verify the transfer of four hundred dollars to the account ending in seven two one before noon today.",
                                      name: "speech.wav");
        SpeechByFormat = new Dictionary<string, string>
        {
            ["wav"] = SpeechWav,
            ["mp3"] = MediaFiles.Convert(SpeechWav, Path.Combine(Dir, "speech.mp3"), "-c:a", "libmp3lame", "-b:a", "64k"),
            ["flac"] = MediaFiles.Convert(SpeechWav, Path.Combine(Dir, "speech.flac"), "-c:a", "flac"),
            ["ogg"] = MediaFiles.Convert(SpeechWav, Path.Combine(Dir, "speech.ogg"), "-c:a", "libvorbis", "-q:a", "3"),
            ["opus"] = MediaFiles.Convert(SpeechWav, Path.Combine(Dir, "speech.opus"), "-c:a", "libopus", "-b:a", "24k"),
        };
        Tone = MediaFiles.Tone(Dir, "tone.wav", 440, 7);
        Noise = MediaFiles.Noise(Dir, "noise.wav", 7);
        // A held major triad with harmonics: music-like, tonal, steady.
        Chords = MediaFiles.Synth(Dir, "chords.wav",
            "0.2*sin(2*PI*261.63*t)+0.2*sin(2*PI*329.63*t)+0.2*sin(2*PI*392*t)+0.1*sin(2*PI*523.25*t)+0.05*sin(2*PI*784*t)", 7, rate: 44100);
        VideoWithoutAudio = MediaFiles.Ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2", "-an", "-c:v", "mpeg4"],
                                              Path.Combine(Dir, "video-no-audio.mp4"));
        Png = File.ReadAllBytes(MediaFiles.Ffmpeg(["-f", "lavfi", "-i", "color=c=red:size=32x32", "-frames:v", "1"], Path.Combine(Dir, "red.png")));
        using (var ms = new MemoryStream())
        {
            using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            using (var w = new StreamWriter(zip.CreateEntry("readme.txt").Open())) w.Write("zipped text");
            Zip = ms.ToArray();
        }
    }

    public byte[] Bytes(string format) => File.ReadAllBytes(SpeechByFormat[format]);

    /// <summary>Writes <paramref name="bytes"/> under <see cref="Dir"/> with the given (possibly hostile) file name.</summary>
    public string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(Dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
