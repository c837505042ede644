namespace MoeFunctions.Training.Data;

/// <summary>
/// Balanced training batches as in the reference: bona fide and spoof examples alternate, each a random 3 s crop
/// (short clips tiled). Deterministic for a given seed and epoch, so a resumed run sees the same batches.
/// With <c>balanceGenerators</c>, a spoof example first picks one of the generators (the manifest's generator column)
/// uniformly, then a clip of it: D2's TRAIN split has 215 Tortoise clips against 13-18 of each zero-shot cloning system.
/// </summary>
public sealed class BalancedSampler
{
    private readonly Clip[] real, fake;
    private readonly Clip[][]? fakeByGenerator;

    public BalancedSampler(IEnumerable<Clip> clips, bool balanceGenerators = false)
    {
        var all = clips.ToList();
        real = all.Where(c => !c.Spoof).ToArray();
        fake = all.Where(c => c.Spoof).ToArray();
        if (real.Length == 0 || fake.Length == 0)
            throw new InvalidOperationException($"training needs both classes (bona fide {real.Length}, spoof {fake.Length} clips)");
        if (balanceGenerators)
            fakeByGenerator = fake.GroupBy(c => c.Entry.Generator, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => g.ToArray()).ToArray();
    }

    /// <summary>Spoof generators the sampler draws from evenly; 0 when it draws clips evenly.</summary>
    public int GeneratorGroups => fakeByGenerator?.Length ?? 0;

    public int Count => real.Length + fake.Length;

    /// <summary>Batches for one epoch: [batch, window] waveforms and labels (0 bona fide, 1 spoof).</summary>
    public IEnumerable<(float[] Waves, long[] Labels)> Epoch(int seed, int epoch, int batchSize, int batches, int windowSamples = 48000)
    {
        // Not HashCode.Combine: it is randomised per process, and a resumed run must draw the same batches.
        var rng = new Random(unchecked(seed * 100_003 + epoch * 7919 + 17));
        for (int b = 0; b < batches; b++)
        {
            var waves = new float[batchSize * windowSamples];
            var labels = new long[batchSize];
            for (int i = 0; i < batchSize; i++)
            {
                bool spoof = i % 2 == 1;
                // The generator is drawn only when balancing, so unbalanced runs keep the random sequence they always had.
                var pool = !spoof ? real : fakeByGenerator is { } groups ? groups[rng.Next(groups.Length)] : fake;
                var clip = pool[rng.Next(pool.Length)];
                int start = clip.Samples.Length > windowSamples ? rng.Next(clip.Samples.Length - windowSamples + 1) : 0;
                ClipStore.CropInto(clip.Samples, start, waves.AsSpan(i * windowSamples, windowSamples));
                labels[i] = spoof ? 1 : 0;
            }
            yield return (waves, labels);
        }
    }
}
