using MoeFunctions.TestSupport;
using Xunit.Abstractions;

namespace MoeFunctions.Audio.Tests;

/// <summary>Speech/no-speech per window on generated non-speech, espeak-ng speech and real recordings.</summary>
public sealed class SpeechDetectionTests(MediaFixture media, ITestOutputHelper output) : IClassFixture<MediaFixture>
{

    public static TheoryData<string, string> NonSpeech => new()
    {
        { "silence", "0" },
        { "tone-150", "0.5*sin(2*PI*150*t)" },
        { "tone-440", "0.5*sin(2*PI*440*t)" },
        { "tone-1000-quiet", "0.01*sin(2*PI*1000*t)" },
        { "tone-am-4hz", "0.3*sin(2*PI*440*t)*(0.5+0.5*sin(2*PI*4*t))" },           // syllable-rate loudness changes, steady spectrum
        { "sweep", "0.3*sin(2*PI*(300+200*sin(2*PI*0.5*t))*t)" },
        { "chord", "0.2*(sin(2*PI*261.6*t)+sin(2*PI*329.6*t)+sin(2*PI*392*t)+0.5*sin(2*PI*523.2*t))" },
        { "plucked-chords", "0.25*exp(-8*mod(t\\,0.25))*(sin(2*PI*(220+110*floor(mod(4*t\\,4)))*t)+0.6*sin(4*PI*(220+110*floor(mod(4*t\\,4)))*t)+0.4*sin(6*PI*(220+110*floor(mod(4*t\\,4)))*t)+sin(2*PI*1.25*(220+110*floor(mod(4*t\\,4)))*t))" },
        { "white-noise", "0.3*(2*random(0)-1)" },
        { "white-noise-bursts", "0.3*(2*random(0)-1)*if(lt(mod(t\\,0.33)\\,0.15)\\,1\\,0.05)" },
    };

    [Theory]
    [MemberData(nameof(NonSpeech))]
    public void Generated_non_speech_is_not_speech(string name, string expression)
    {
        string path = MediaFiles.Synth(media.Dir.Path, name + ".wav", expression, 7.0, 16000, 1, "-c:a", "pcm_s16le");
        var windows = TestAudio.Windows(path);
        Assert.Equal(3, windows.Count);
        Assert.All(windows, w => Assert.False(w.IsSpeech, $"{name} window {w.Index} judged speech ({w.SpeechFraction:F2})"));
    }

    [Theory]
    [InlineData("pink")]
    [InlineData("brown")]
    public void Coloured_noise_bursts_are_not_speech(string color)
    {
        string path = MediaFiles.Ffmpeg(["-f", "lavfi", "-i", $"anoisesrc=color={color}:a=0.3:r=16000:d=7:seed=3",
            "-af", "volume='if(lt(mod(t,0.33),0.15),1,0.05)':eval=frame"], media.Dir.File($"{color}-bursts.wav"));
        Assert.All(TestAudio.Windows(path), w => Assert.False(w.IsSpeech, $"{color} window {w.Index} judged speech ({w.SpeechFraction:F2})"));
    }

    [Theory]
    [InlineData("en-us", "The quick brown fox jumps over the lazy dog. Audio decoding must work for every format we accept, and speech must be found.")]
    [InlineData("de", "Guten Tag, dies ist ein kurzer Test der Spracherkennung in einem Fenster von drei Sekunden, mit etwas mehr Text.")]
    [InlineData("fr", "Bonjour, ceci est un petit essai de détection de la parole, avec une phrase assez longue pour deux fenêtres.")]
    public void Espeak_speech_is_speech(string voice, string text)
    {
        string path = MediaFiles.Speech(media.Dir.Path, text, voice, $"speech-{voice}.mp3");
        var windows = TestAudio.Windows(path);
        Assert.True(windows.Count >= 2);
        Assert.All(windows, w => Assert.True(w.IsSpeech, $"{voice} window {w.Index}: fraction {w.SpeechFraction:F2}"));
    }

    [Fact]
    public void Speech_then_silence_marks_only_the_silent_windows()
    {
        string speech = MediaFiles.Speech(media.Dir.Path, "One two three four five six seven eight nine ten, and then nothing at all.", "en", "counting.wav");
        string padded = MediaFiles.Convert(speech, media.Dir.File("counting-padded.wav"), "-af", "apad=pad_dur=7", "-ar", "16000");
        var windows = TestAudio.Windows(padded);
        Assert.True(windows[0].IsSpeech);
        Assert.False(windows[^1].IsSpeech);
        Assert.False(windows[^2].IsSpeech);
    }

    [SharedDataFact]
    public void Real_recorded_speech_is_speech()
    {
        // Read in place (never copied): a few LibriSpeech and LJSpeech clips, plus TTS output (it is speech too).
        var files = new[] { "librispeech", "ljspeech", "vstts", "tortoise" }
            .Select(d => Path.Combine(SharedData.Directory!, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.*", SearchOption.AllDirectories).Where(f => f.EndsWith(".flac") || f.EndsWith(".mp3")).Order().Take(3))
            .ToList();
        Assert.NotEmpty(files);
        int total = 0, speech = 0;
        foreach (var f in files)
        {
            var windows = TestAudio.Windows(f);
            total += windows.Count;
            speech += windows.Count(w => w.IsSpeech);
            output.WriteLine($"{Path.GetFileName(f)}: {windows.Count(w => w.IsSpeech)}/{windows.Count} windows speech");
        }
        Assert.True(speech >= 0.9 * total, $"{speech}/{total} windows of real speech judged speech");
    }
}
