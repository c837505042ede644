using static TorchSharp.torch;

namespace MoeFunctions.Training.Data;

/// <summary>
/// RawBoost-style waveform augmentation of training crops (Tak et al., "RawBoost", ICASSP 2022), so an expert cannot
/// lean on one recording chain. Each example independently gets, each with probability <c>probability</c>, in order:
/// (1) a random equaliser: 1-3 partial band-stops; (2) signal-dependent impulsive noise on up to 10 % of its samples;
/// (3) band-limited Gaussian noise at 10-40 dB SNR. Draws come from a generator per (seed, epoch, batch, example),
/// so a resumed run sees the same batches and the sampler's own sequence is the same with or without augmentation.
/// The parameters are drawn here because TorchSharp has no torchaudio; the filtering is one grouped conv1d per batch.
/// </summary>
public sealed class WaveAugmenter(double probability = 0.5)
{
    /// <summary>FIR length: 8 ms at 16 kHz, so a band-stop can be as narrow as about 150 Hz.</summary>
    public const int Taps = 129;
    const double SampleRate = 16000;

    /// <summary>Augmented copies of a batch of <paramref name="batchSize"/> windows laid end to end.</summary>
    public float[] Apply(float[] waves, int batchSize, int seed, int epoch, int batch)
    {
        int n = waves.Length / batchSize;
        var equalisers = new float[batchSize * Taps];
        var noiseFilters = new float[batchSize * Taps];
        var noise = new float[waves.Length];
        var rngs = new Random[batchSize];
        var plans = new (bool Impulses, bool Noise, double SnrDb)[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            var rng = rngs[i] = new Random(unchecked(seed * 1_000_003 + epoch * 100_003 + batch * 1_009 + i));
            var eq = equalisers.AsSpan(i * Taps, Taps);
            eq[Taps / 2] = 1; // identity unless the equaliser is drawn
            if (rng.NextDouble() < probability)
                for (int b = rng.Next(1, 4); b > 0; b--)
                {
                    double centre = 100 + rng.NextDouble() * 7300, width = 150 + rng.NextDouble() * 850, depth = 0.3 + rng.NextDouble() * 0.6;
                    AddBandPass(eq, centre - width / 2, centre + width / 2, -depth);
                }
            plans[i] = (rng.NextDouble() < probability, rng.NextDouble() < probability, 10 + rng.NextDouble() * 30);
            if (plans[i].Noise)
            {
                double low = rng.NextDouble() * 4000, high = low + 1000 + rng.NextDouble() * (SampleRate / 2 - low - 1000);
                AddBandPass(noiseFilters.AsSpan(i * Taps, Taps), low, high, 1);
                var g = noise.AsSpan(i * n, n);
                for (int t = 0; t < n; t += 2) // Box-Muller, two normals per draw
                {
                    double r = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())), a = 2 * Math.PI * rng.NextDouble();
                    g[t] = (float)(r * Math.Cos(a));
                    if (t + 1 < n) g[t + 1] = (float)(r * Math.Sin(a));
                }
            }
        }
        var output = Filter(waves, equalisers, batchSize, n);
        var coloured = Filter(noise, noiseFilters, batchSize, n);
        for (int i = 0; i < batchSize; i++)
        {
            var x = output.AsSpan(i * n, n);
            if (plans[i].Impulses)
            {
                // RawBoost's ISD: a random share of samples each moves by up to twice its own value.
                double share = rngs[i].NextDouble() * 0.10;
                for (int t = 0; t < n; t++)
                    if (rngs[i].NextDouble() < share) x[t] += x[t] * (float)(2 * (2 * rngs[i].NextDouble() - 1));
            }
            if (plans[i].Noise)
            {
                var c = coloured.AsSpan(i * n, n);
                double signal = Power(x), floor = Power(c);
                if (signal <= 0 || floor <= 0) continue; // a silent crop has no SNR to set
                float gain = (float)Math.Sqrt(signal / (floor * Math.Pow(10, plans[i].SnrDb / 10)));
                for (int t = 0; t < n; t++) x[t] += gain * c[t];
            }
        }
        return output;
    }

    /// <summary>Adds <paramref name="scale"/> times a Hamming-windowed sinc band-pass between the two edges (Hz).</summary>
    static void AddBandPass(Span<float> h, double low, double high, double scale)
    {
        low = Math.Clamp(low, 0, SampleRate / 2); high = Math.Clamp(high, low, SampleRate / 2);
        int m = h.Length / 2;
        for (int k = 0; k < h.Length; k++)
        {
            double window = 0.54 - 0.46 * Math.Cos(2 * Math.PI * k / (h.Length - 1));
            h[k] += (float)(scale * window * (LowPass(high, k - m) - LowPass(low, k - m)));
        }

        static double LowPass(double edge, int k)
        {
            double f = 2 * edge / SampleRate;
            return k == 0 ? f : Math.Sin(Math.PI * f * k) / (Math.PI * k);
        }
    }

    static float[] Filter(float[] signals, float[] kernels, int batchSize, int n)
    {
        using var scope = NewDisposeScope();
        var x = tensor(signals).reshape(1, batchSize, n);
        var w = tensor(kernels).reshape(batchSize, 1, Taps);
        return nn.functional.conv1d(x, w, padding: Taps / 2, groups: batchSize).reshape(-1).data<float>().ToArray();
    }

    static double Power(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x) sum += v * (double)v;
        return sum / x.Length;
    }
}
