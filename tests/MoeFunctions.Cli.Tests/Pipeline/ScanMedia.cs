using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests.Pipeline;

/// <summary>Media made once per test class: espeak-ng speech in three containers, a longer recording, silence and a text file posing as WAV.</summary>
public sealed class ScanMedia : IDisposable
{
    public ScratchDir Dir { get; } = new("moe-scan-media");
    public string Wav { get; }
    public string Mp3 { get; }
    public string Opus { get; }
    public string Long { get; }
    public string Silence { get; }
    public string NotAudio { get; }

    public ScanMedia()
    {
        Wav = TestMedia.Speech(Dir.File("set/speech.wav"), "The quick brown fox jumps over the lazy dog near the river bank.");
        Mp3 = TestMedia.Speech(Dir.File("set/sub/speech.mp3"), "Please leave a message after the tone and we will call you back.", "en-us");
        Opus = TestMedia.Speech(Dir.File("set/sub/deeper/speech.opus"), "Welcome to the conference, you are the only person here.", "en+f2");
        Long = TestMedia.LongSpeech(Dir.File("long/long.wav"), "Numbers one two three four five six seven eight nine ten.", 10.0);
        Silence = TestMedia.Silence(Dir.File("silence/quiet.wav"), 4.0);
        NotAudio = Dir.File("set/notes.wav");
        File.WriteAllText(NotAudio, "this is a text file with a .wav name, not audio\n");
    }

    public string[] All => [Wav, Mp3, Opus, Long, Silence, NotAudio];

    public void Dispose() => Dir.Dispose();
}
