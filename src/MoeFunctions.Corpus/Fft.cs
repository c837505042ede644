using System.Collections.Concurrent;
using System.Numerics;

namespace MoeFunctions.Corpus;

/// <summary>
/// In-place radix-2 complex FFT with cached twiddle and bit-reversal tables. Griffin-Lim runs tens of thousands
/// of 1024-point transforms per utterance, so the tables matter (FftSharp recomputes twiddles on every call).
/// </summary>
public static class Fft
{
    sealed record Plan(Complex[] Twiddles, int[] Reverse);
    static readonly ConcurrentDictionary<int, Plan> Plans = new();

    static Plan For(int n)
    {
        if (n < 2 || (n & (n - 1)) != 0) throw new ArgumentException($"FFT size {n} is not a power of two");
        return Plans.GetOrAdd(n, size =>
        {
            var tw = new Complex[size / 2];
            for (int k = 0; k < size / 2; k++) tw[k] = Complex.FromPolarCoordinates(1, -2 * Math.PI * k / size);
            int bits = System.Numerics.BitOperations.Log2((uint)size);
            var rev = new int[size];
            for (int i = 0; i < size; i++)
            {
                int r = 0;
                for (int b = 0; b < bits; b++) if ((i & (1 << b)) != 0) r |= 1 << (bits - 1 - b);
                rev[i] = r;
            }
            return new Plan(tw, rev);
        });
    }

    public static void Forward(Complex[] x)
    {
        int n = x.Length;
        var plan = For(n);
        for (int i = 0; i < n; i++) { int j = plan.Reverse[i]; if (j > i) (x[i], x[j]) = (x[j], x[i]); }
        for (int size = 2; size <= n; size <<= 1)
        {
            int halfSize = size >> 1, step = n / size;
            for (int start = 0; start < n; start += size)
                for (int k = 0; k < halfSize; k++)
                {
                    var t = plan.Twiddles[k * step] * x[start + k + halfSize];
                    x[start + k + halfSize] = x[start + k] - t;
                    x[start + k] += t;
                }
        }
    }

    public static void Inverse(Complex[] x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = Complex.Conjugate(x[i]);
        Forward(x);
        for (int i = 0; i < x.Length; i++) x[i] = Complex.Conjugate(x[i]) / x.Length;
    }
}
