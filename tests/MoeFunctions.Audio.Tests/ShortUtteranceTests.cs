using MoeFunctions.TestSupport;
using Xunit.Abstractions;

namespace MoeFunctions.Audio.Tests;

/// <summary>
/// Single spoken words (0.4-0.8 s) must be speech, alone (a file shorter than a window, tiled) and padded with silence
/// into a longer file; tone bursts, clicks and a short synthetic melody of the same length must not. Everything goes
/// through the scanner's path: a real file, MediaDecoder, Windower, SpeechDetector.
/// </summary>
public sealed class ShortUtteranceTests(MediaFixture media, ITestOutputHelper output) : IClassFixture<MediaFixture>
{

    public static TheoryData<string, string> Words => new()
    {
        { "en", "seven" },
        { "en", "yes" },
        { "en", "B" },
        { "en-us", "one" },
        { "de", "sieben" },
        { "fr", "non" },
    };

    [Theory]
    [MemberData(nameof(Words))]
    public void A_single_espeak_word_alone_is_speech(string voice, string word)
    {
        string path = MediaFiles.Speech(media.Dir.Path, word, voice, $"word-{voice}-{word}.wav");
        var window = Assert.Single(TestAudio.Windows(path));
        Assert.InRange(window.EndSeconds, 0.3, 1.2); // the word alone is shorter than a window
        Log(word, window);
        Assert.True(window.IsSpeech, $"'{word}' ({voice}, {window.EndSeconds:F2} s) judged no speech ({window.SpeechFraction:F3})");
    }

    [Theory]
    [MemberData(nameof(Words))]
    public void A_single_espeak_word_padded_with_silence_is_speech_only_where_it_is(string voice, string word)
    {
        string speech = MediaFiles.Speech(media.Dir.Path, word, voice, $"pad-{voice}-{word}.wav");
        // 1 s of silence, the word, silence up to 7 s: windows 0-3 s (the word), 3-6 s and the end-aligned 4-7 s.
        string padded = MediaFiles.Convert(speech, media.Dir.File($"padded-{voice}-{word}.wav"),
            "-af", "adelay=1000:all=1,apad=whole_dur=7", "-ar", "16000");
        var windows = TestAudio.Windows(padded);
        Assert.Equal(3, windows.Count);
        foreach (var w in windows) Log(word, w);
        Assert.True(windows[0].IsSpeech, $"'{word}' ({voice}) in a 7 s file judged no speech ({windows[0].SpeechFraction:F3})");
        Assert.False(windows[1].IsSpeech);
        Assert.False(windows[2].IsSpeech);
    }

    // Six plucked notes of 0.1 s cycling over three pitches: its spectrum jumps between notes as sharply as a word's at
    // its consonants (upper-quartile flux above 2 dB) but is frozen within each note (median flux under 0.1 dB).
    private const string FastMelody = "melody-10-notes-per-s";
    private const string FastMelodyExpression =
        "0.3*exp(-5*mod(t\\,0.1))*(sin(2*PI*(262+131*floor(mod(10*t\\,3)))*t)+0.5*sin(4*PI*(262+131*floor(mod(10*t\\,3)))*t))";

    [Theory]
    [InlineData("two", 2.8)]
    [InlineData("yes", 2.9)]
    public void A_word_cut_by_a_window_boundary_is_speech_with_overlapping_windows(string word, double start)
    {
        // With the default 3 s hop these words straddle the 3 s boundary, and a part may hold too little speech to count;
        // a 1.5 s hop (moe scan --hop 1.5) puts the whole word in the 1.5-4.5 s window.
        string speech = MediaFiles.Speech(media.Dir.Path, word, "en", $"edge-{word}.wav");
        string padded = MediaFiles.Convert(speech, media.Dir.File($"edge-{word}-padded.wav"),
            "-af", $"adelay={(int)(start * 1000)}:all=1,apad=whole_dur=7", "-ar", "16000");
        var windows = TestAudio.Windows(padded, new WindowOptions(48000, 24000));
        foreach (var w in windows) Log(word, w);
        var whole = Assert.Single(windows, w => w.StartSeconds == 1.5);
        Assert.True(whole.IsSpeech, $"'{word}' at {start} s: the 1.5-4.5 s window judged no speech ({whole.SpeechFraction:F3})");
    }

    public static TheoryData<string, string, double> ShortNonSpeech => new()
    {
        { "tone-burst-440", "0.5*sin(2*PI*440*t)", 0.6 },
        { "tone-burst-1000", "0.5*sin(2*PI*1000*t)", 0.4 },
        { "harmonic-burst-200", "0.3*(sin(2*PI*200*t)+0.5*sin(4*PI*200*t)+0.3*sin(6*PI*200*t)+0.2*sin(8*PI*200*t))", 0.5 },
        { "decaying-note-330", "0.4*exp(-4*t)*(sin(2*PI*330*t)+0.4*sin(4*PI*330*t)+0.2*sin(6*PI*330*t))", 0.6 },
        { "click", "if(lt(t\\,0.002)\\,0.9\\,0)", 0.6 },
        { "click-train-10hz", "if(lt(mod(t\\,0.1)\\,0.0005)\\,0.8\\,0)", 0.6 },
        { FastMelody, FastMelodyExpression, 0.6 },
    };

    [Theory]
    [MemberData(nameof(ShortNonSpeech))]
    public void A_word_length_burst_alone_is_not_speech(string name, string expression, double seconds)
    {
        // 0.1 s of silence either side, like the espeak-ng words.
        string path = MediaFiles.Convert(Burst(name, expression, seconds), media.Dir.File($"short-{name}.wav"), "-af", "adelay=100:all=1,apad=pad_dur=0.1");
        var window = Assert.Single(TestAudio.Windows(path));
        Log(name, window);
        Assert.False(window.IsSpeech, $"{name} ({seconds} s) judged speech ({window.SpeechFraction:F3})");
    }

    [Theory]
    [MemberData(nameof(ShortNonSpeech))]
    public void A_word_length_burst_padded_with_silence_is_not_speech(string name, string expression, double seconds)
    {
        string path = MediaFiles.Convert(Burst(name, expression, seconds), media.Dir.File($"padded-{name}.wav"), "-af", "adelay=1000:all=1,apad=whole_dur=7");
        var windows = TestAudio.Windows(path);
        Assert.Equal(3, windows.Count);
        foreach (var w in windows) Log(name, w);
        Assert.All(windows, w => Assert.False(w.IsSpeech, $"{name} window {w.Index} judged speech ({w.SpeechFraction:F3})"));
    }

    [Fact]
    public void A_fast_melody_changes_like_a_word_but_is_kept_out_by_its_frozen_notes()
    {
        string path = MediaFiles.Convert(Burst(FastMelody, FastMelodyExpression, 0.6), media.Dir.File("melody-alone.wav"), "-af", "adelay=100:all=1,apad=pad_dur=0.1");
        var window = Assert.Single(TestAudio.Windows(path));
        var f = SpeechDetector.Analyze(window.Samples.AsSpan(0, (int)Math.Round(window.EndSeconds * MediaDecoder.TargetSampleRate)));
        Log(FastMelody, window);
        // The case the short-word rule's median floor exists for: it passes every other test a single word passes.
        Assert.True(f.UpperQuartileFlux >= SpeechDetector.MinFlux, $"upper-quartile flux {f.UpperQuartileFlux:F2}");
        Assert.True(f.DynamicsDb >= SpeechDetector.MinDynamicsDb && f.MedianFlatness <= SpeechDetector.MaxMedianFlatness);
        Assert.True(f.MedianFlux < SpeechDetector.MinVowelFlux, $"median flux {f.MedianFlux:F2}");
        Assert.False(window.IsSpeech);
    }

    [SharedDataFact]
    public void Recorded_spoken_digits_are_speech()
    {
        // Free Spoken Digit Dataset (single English digits, 8 kHz), read in place, never copied: every 25th of the 3,000
        // clips. Before the short-word rule 111 of these 120 were speech, after it 119.
        string dir = Path.Combine(SharedData.Directory!, "fsdd");
        var files = Directory.EnumerateFiles(dir, "*.flac").Order(StringComparer.Ordinal).Where((_, i) => i % 25 == 0).ToList();
        Assert.NotEmpty(files);
        var missed = files.Where(f => !TestAudio.Windows(f).Any(w => w.IsSpeech)).Select(Path.GetFileName).ToList();
        output.WriteLine($"{files.Count - missed.Count}/{files.Count} digits speech; missed: {string.Join(' ', missed)}");
        Assert.True(missed.Count <= 0.025 * files.Count, $"{missed.Count} of {files.Count} spoken digits judged no speech: {string.Join(' ', missed)}");
    }

    /// <summary>A synthesised burst of <paramref name="seconds"/>, padded by the caller like the espeak-ng words.</summary>
    private string Burst(string name, string expression, double seconds) =>
        MediaFiles.Synth(media.Dir.Path, $"burst-{name}.wav", expression, seconds, 16000, 1, "-c:a", "pcm_s16le");

    private void Log(string name, AudioWindow w)
    {
        int n = (int)Math.Round((w.EndSeconds - w.StartSeconds) * MediaDecoder.TargetSampleRate);
        var f = SpeechDetector.Analyze(w.Samples.AsSpan(0, Math.Min(n, w.Samples.Length)));
        output.WriteLine($"{name} window {w.Index}: speech {w.IsSpeech} fraction {f.SpeechFraction:F3} flux median {f.MedianFlux:F2} " +
                         $"q75 {f.UpperQuartileFlux:F2} flatness {f.MedianFlatness:F4} dynamics {f.DynamicsDb:F1} dB");
    }
}
