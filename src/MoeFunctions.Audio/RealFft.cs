using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MoeFunctions.Audio;

/// <summary>
/// Power spectrum of a real frame in double precision: an n/2-point complex radix-2 FFT of the even/odd-packed samples,
/// then the split step. Used by the experts' log-mel front end and by <see cref="SpeechDetector"/>, once per 10-20 ms
/// frame of every window, which made it the largest managed cost of a scan. Hand-written rather than taken from a library
/// because it must not allocate per call (one instance per thread owns its buffers) and its stages run four butterflies at
/// a time with <see cref="Vector256"/>; each butterfly computes what the scalar form does in the same order, so the
/// result does not depend on whether the vector path runs.
/// </summary>
public sealed class RealFft
{
    private readonly int _n, _m;
    private readonly int[] _bitRev;
    // Twiddles of the m-point FFT, laid out per stage: the stage of half size h reads its h factors e^{-2 pi i k / 2h}
    // contiguously from index h, so four butterflies load four consecutive factors.
    private readonly double[] _twRe, _twIm;
    private readonly double[] _splitCos, _splitSin; // e^{-2 pi i k / n}, k = 0..m
    private readonly double[] _re, _im;

    public RealFft(int n)
    {
        if (n < 8 || (n & (n - 1)) != 0) throw new ArgumentException("n must be a power of two >= 8", nameof(n));
        _n = n;
        _m = n / 2;
        var bits = System.Numerics.BitOperations.Log2((uint)_m);
        _bitRev = new int[_m];
        for (var i = 0; i < _m; i++)
        {
            var r = 0;
            for (var b = 0; b < bits; b++) if ((i & (1 << b)) != 0) r |= 1 << (bits - 1 - b);
            _bitRev[i] = r;
        }
        _twRe = new double[_m];
        _twIm = new double[_m];
        for (var h = 1; h < _m; h <<= 1)
            for (var k = 0; k < h; k++)
            {
                // Angle 2 pi (k m / 2h) / m, as the integer index into an m-point table, so every stage gets the same bits.
                var i = k * (_m / (2 * h));
                _twRe[h + k] = Math.Cos(2 * Math.PI * i / _m);
                _twIm[h + k] = -Math.Sin(2 * Math.PI * i / _m);
            }
        _splitCos = new double[_m + 1];
        _splitSin = new double[_m + 1];
        for (var k = 0; k <= _m; k++)
        {
            _splitCos[k] = Math.Cos(2 * Math.PI * k / _n);
            _splitSin[k] = -Math.Sin(2 * Math.PI * k / _n);
        }
        _re = new double[_m];
        _im = new double[_m];
    }

    /// <summary>power[k] = |X[k]|^2 for k = 0..n/2 of the n samples in <paramref name="x"/>.</summary>
    public void Power(ReadOnlySpan<double> x, Span<double> power)
    {
        if (x.Length < _n) throw new ArgumentException($"need {_n} samples", nameof(x));
        if (power.Length < _m + 1) throw new ArgumentException($"need {_m + 1} outputs", nameof(power));
        var m = _m;
        var re = _re;
        var im = _im;
        for (var i = 0; i < m; i++)
        {
            var j = _bitRev[i];
            re[j] = x[2 * i];
            im[j] = x[2 * i + 1];
        }
        Butterflies(re, im);
        // X[k] = E[k] + W^k O[k], with E = (Z[k] + conj Z[m-k]) / 2 and O = (Z[k] - conj Z[m-k]) / 2i (Z[m] = Z[0]).
        for (var k = 0; k <= m; k++)
        {
            var a = k == m ? 0 : k;
            var b = k == 0 ? 0 : m - k;
            double zr = re[a], zi = im[a], cr = re[b], ci = -im[b];
            var er = 0.5 * (zr + cr);
            var ei = 0.5 * (zi + ci);
            // (Z - conj Z') / (2i) = (dI, -dR) / 2 where d = Z - conj Z'
            var or = 0.5 * (zi - ci);
            var oi = -0.5 * (zr - cr);
            var wr = _splitCos[k];
            var wi = _splitSin[k];
            var xr = er + (or * wr - oi * wi);
            var xi = ei + (or * wi + oi * wr);
            power[k] = xr * xr + xi * xi;
        }
    }

    private void Butterflies(double[] reArr, double[] imArr)
    {
        var m = _m;
        ref var re = ref MemoryMarshal.GetArrayDataReference(reArr);
        ref var im = ref MemoryMarshal.GetArrayDataReference(imArr);
        ref var twRe = ref MemoryMarshal.GetArrayDataReference(_twRe);
        ref var twIm = ref MemoryMarshal.GetArrayDataReference(_twIm);
        var h = 1;
        if (Vector256.IsHardwareAccelerated)
        {
            // The two first stages have twiddles 1 and -i only; they run scalar (the vector stages need h >= 4).
            for (; h < 4 && h < m; h <<= 1) ScalarStage(ref re, ref im, ref twRe, ref twIm, m, h);
            for (; h < m; h <<= 1)
                for (var start = 0; start < m; start += 2 * h)
                    for (var k = 0; k < h; k += Vector256<double>.Count)
                    {
                        var a = (nuint)(start + k);
                        var b = a + (nuint)h;
                        var wr = Vector256.LoadUnsafe(ref twRe, (nuint)(h + k));
                        var wi = Vector256.LoadUnsafe(ref twIm, (nuint)(h + k));
                        var rb = Vector256.LoadUnsafe(ref re, b);
                        var ib = Vector256.LoadUnsafe(ref im, b);
                        var ra = Vector256.LoadUnsafe(ref re, a);
                        var ia = Vector256.LoadUnsafe(ref im, a);
                        var tr = rb * wr - ib * wi;
                        var ti = rb * wi + ib * wr;
                        (ra - tr).StoreUnsafe(ref re, b);
                        (ia - ti).StoreUnsafe(ref im, b);
                        (ra + tr).StoreUnsafe(ref re, a);
                        (ia + ti).StoreUnsafe(ref im, a);
                    }
            return;
        }
        for (; h < m; h <<= 1) ScalarStage(ref re, ref im, ref twRe, ref twIm, m, h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScalarStage(ref double re, ref double im, ref double twRe, ref double twIm, int m, int h)
    {
        for (var start = 0; start < m; start += 2 * h)
            for (var k = 0; k < h; k++)
            {
                var wr = Unsafe.Add(ref twRe, h + k);
                var wi = Unsafe.Add(ref twIm, h + k);
                ref var ra = ref Unsafe.Add(ref re, start + k);
                ref var ia = ref Unsafe.Add(ref im, start + k);
                ref var rb = ref Unsafe.Add(ref re, start + k + h);
                ref var ib = ref Unsafe.Add(ref im, start + k + h);
                var tr = rb * wr - ib * wi;
                var ti = rb * wi + ib * wr;
                rb = ra - tr;
                ib = ia - ti;
                ra += tr;
                ia += ti;
            }
    }
}
