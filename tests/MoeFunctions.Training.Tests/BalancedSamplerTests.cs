using MoeFunctions.Training.Data;

namespace MoeFunctions.Training.Tests;

public class BalancedSamplerTests
{
    /// <summary>Clips whose first sample tells them apart: bona fide 0, spoof 1 + index of the generator.</summary>
    private static List<Clip> Clips(params (string Generator, int Count)[] fakes)
    {
        var clips = Enumerable.Range(0, 10).Select(i => Clip(false, "human", 0f)).ToList();
        for (int g = 0; g < fakes.Length; g++)
            clips.AddRange(Enumerable.Range(0, fakes[g].Count).Select(_ => Clip(true, fakes[g].Generator, 1 + g)));
        return clips;
    }

    private static Clip Clip(bool spoof, string generator, float marker) =>
        new(new CorpusEntry("x.wav", spoof, "D2", "train", "s", "src", generator, "CC0-1.0", 1), Enumerable.Repeat(marker, 16000).ToArray());

    /// <summary>Share of spoof examples per generator marker over a few epochs.</summary>
    private static Dictionary<float, double> SpoofShares(BalancedSampler sampler)
    {
        var counts = new Dictionary<float, int>();
        foreach (var (waves, labels) in Enumerable.Range(1, 5).SelectMany(e => sampler.Epoch(seed: 1, e, batchSize: 16, batches: 20, windowSamples: 100)))
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] == 1) counts[waves[i * 100]] = counts.GetValueOrDefault(waves[i * 100]) + 1;
        double total = counts.Values.Sum();
        return counts.ToDictionary(p => p.Key, p => p.Value / total);
    }

    [Fact]
    public void Balancing_generators_gives_a_rare_generator_an_equal_share_of_spoof_examples()
    {
        var clips = Clips(("tortoise", 40), ("vall-e", 2), ("yourtts", 2));
        var plain = SpoofShares(new BalancedSampler(clips));
        var balanced = new BalancedSampler(clips, balanceGenerators: true);
        var even = SpoofShares(balanced);
        Assert.Equal(3, balanced.GeneratorGroups);
        Assert.Equal(0, new BalancedSampler(clips).GeneratorGroups);
        Assert.InRange(plain.GetValueOrDefault(2f), 0.0, 0.12);       // vall-e: 2 of 44 clips
        Assert.InRange(even[2f], 0.25, 0.42);                        // a third of the spoof examples
        Assert.InRange(even[1f], 0.25, 0.42);
        // Still alternating classes, and the same batches for the same seed and epoch.
        var first = balanced.Epoch(1, 1, 16, 2, 100).ToList();
        Assert.All(first, b => Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)(i % 2)), b.Labels));
        Assert.Equal(first.SelectMany(b => b.Waves), balanced.Epoch(1, 1, 16, 2, 100).SelectMany(b => b.Waves));
    }
}
