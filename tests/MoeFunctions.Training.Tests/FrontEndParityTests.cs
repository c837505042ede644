using MoeFunctions.Detection;
using MoeFunctions.Training.Data;
using MoeFunctions.Training.Networks;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

/// <summary>
/// Issue 2 item 3: the scanner's managed LogMelFrontEnd against libtorch (torch.stft + torchaudio's HTK mel bank,
/// the pipeline of torchaudio's MelSpectrogram with the reference parameters) on real speech and on noise.
/// Training computes its features with <see cref="TorchLogMel"/>, so this also proves training and scanning agree.
/// </summary>
[Collection(TinyCorpusCollection.Name)]
public class FrontEndParityTests(TinyCorpus corpus)
{
    private static double MaxAbsDiff(float[] window)
    {
        var managed = new LogMelFrontEnd(new FrontEndSpec());
        var expected = new float[managed.Mels * managed.Frames];
        managed.Compute(window, expected);
        using var fe = new TorchLogMel();
        using var t = fe.Compute(tensor(window).unsqueeze(0));
        Assert.Equal(new long[] { 1, 1, managed.Mels, managed.Frames }, t.shape);
        var actual = t.data<float>().ToArray();
        return expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
    }

    [Fact]
    public void MatchesOnEspeakSpeech()
    {
        var clip = corpus.Manifest.Entries.First(e => !e.Spoof);
        var window = ClipStore.MiddleWindow(ClipStore.ReadWav(corpus.Manifest.FullPath(clip)));
        Assert.True(window.Max(Math.Abs) > 0.01f, "speech window is not silent");
        Assert.InRange(MaxAbsDiff(window), 0, 1e-3);
    }

    [Fact]
    public void MatchesOnWhiteAndQuietNoise()
    {
        var rng = new Random(11);
        var loud = Enumerable.Range(0, 48000).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.5f).ToArray();
        var quiet = loud.Select(v => v * 1e-3f).ToArray();
        Assert.InRange(MaxAbsDiff(loud), 0, 1e-3);
        Assert.InRange(MaxAbsDiff(quiet), 0, 1e-3);
    }

    [Fact]
    public void MelFilterBankMatchesTheManagedOneThroughTheirOutputs()
    {
        // A pure tone puts its energy into the bands around 1 kHz in both implementations.
        var tone = Enumerable.Range(0, 48000).Select(i => 0.3f * MathF.Sin(2 * MathF.PI * 1000 * i / 16000f)).ToArray();
        Assert.InRange(MaxAbsDiff(tone), 0, 1e-3);
    }
}
