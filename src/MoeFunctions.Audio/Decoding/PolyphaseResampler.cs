using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Streaming polyphase resampler with a Kaiser-windowed sinc (110 dB design), written because Concentus' managed Speex
/// resampler was the slowest stage of the pipeline (about 55x real time for 44.1 kHz input on this machine).
/// Passband flat to 7/8 of the lower Nyquist frequency (7 kHz for a 16 kHz target), stopband from 17/16 of it (8.5 kHz).
/// Zero delay: output sample n is the input at time n / outRate. The dot products use <see cref="Vector{T}"/>, or FMA on
/// four independent 8-lane sums where the CPU has it (one running sum waits on its own previous add).
/// </summary>
internal sealed class PolyphaseResampler
{
    private const double AttenuationDb = 110;
    private const int MaxTableFloats = 256 << 10; // 1 MiB; odd rates such as 44101 Hz would need 16000 phases
    private readonly int _l, _m, _k, _w; // up factor, down factor, taps per phase, half width
    private readonly float[] _table;    // phase r: taps for input offsets -W+1 .. W
    private float[] _buf;               // input samples from absolute index _bufStart
    private long _bufStart, _inTotal;   // _inTotal counts real samples (the leading zero pad excluded)
    private int _bufLen;
    private long _n;                    // next output index

    private PolyphaseResampler(int l, int m, int w, float[] table)
    {
        _l = l; _m = m; _w = w; _k = 2 * w; _table = table;
        _buf = new float[Math.Max(8192, 4 * _k)];
        // Leading zeros stand for the input before time 0.
        _bufStart = -(w - 1);
        _bufLen = w - 1;
    }

    /// <summary>Builds a resampler, or null when the rate ratio would need an excessive phase table (odd rates then use Speex).</summary>
    public static PolyphaseResampler? TryCreate(int inRate, int outRate)
    {
        int g = Gcd(inRate, outRate);
        int l = outRate / g, m = inRate / g;
        double nyq = Math.Min(inRate, outRate) / 2.0;
        double pass = nyq * 7 / 8, stop = nyq * 17 / 16, cutoff = (pass + stop) / 2;
        double deltaOmega = 2 * Math.PI * (stop - pass) / inRate;
        int taps = (int)Math.Ceiling((AttenuationDb - 7.95) / (2.285 * deltaOmega));
        int w = taps / 2 + 2;
        if ((long)l * 2 * w > MaxTableFloats) return null;
        double beta = 0.1102 * (AttenuationDb - 8.7);
        double fc = 2 * cutoff / inRate; // in cycles per input sample x2
        double i0Beta = BesselI0(beta);
        var table = new float[l * 2 * w];
        for (int r = 0; r < l; r++)
        {
            // Tap j multiplies input q - W + 1 + j, at distance x = r/L - (j - W + 1) from the output time.
            for (int j = 0; j < 2 * w; j++)
            {
                double x = (double)r / l - (j - w + 1);
                double ax = Math.Abs(x) / w;
                double win = ax >= 1 ? 0 : BesselI0(beta * Math.Sqrt(1 - ax * ax)) / i0Beta;
                double sinc = x == 0 ? 1 : Math.Sin(Math.PI * fc * x) / (Math.PI * fc * x);
                table[r * 2 * w + j] = (float)(fc * sinc * win);
            }
        }
        return new PolyphaseResampler(l, m, w, table);
    }

    /// <summary>Input samples the filter looks ahead (the flush must push this many zeros).</summary>
    public int Lookahead => _w;

    /// <summary>Consumes all of <paramref name="input"/>; writes what can be computed into <paramref name="output"/> (sized for it) and returns the count.</summary>
    public int Process(ReadOnlySpan<float> input, Span<float> output, bool countInput = true)
    {
        Append(input);
        if (countInput) _inTotal += input.Length;
        int written = 0;
        long available = _bufStart + _bufLen; // absolute index one past the last buffered input
        while (written < output.Length)
        {
            long t = _n * _m;
            long q = t / _l;
            int r = (int)(t - q * _l);
            if (q + _w >= available) break;
            int offset = (int)(q - _w + 1 - _bufStart);
            output[written++] = Dot(_table.AsSpan(r * _k, _k), _buf.AsSpan(offset, _k));
            _n++;
        }
        // Drop input no future output needs.
        long keepFrom = _n * _m / _l - _w + 1;
        int drop = (int)Math.Clamp(keepFrom - _bufStart, 0, _bufLen);
        if (drop > 0)
        {
            _buf.AsSpan(drop, _bufLen - drop).CopyTo(_buf);
            _bufLen -= drop;
            _bufStart += drop;
        }
        return written;
    }

    /// <summary>Outputs still owed for the input so far, computed with zeros after the end; at most <paramref name="output"/>.Length.</summary>
    public int Flush(Span<float> output, long expectedTotal)
    {
        Span<float> zeros = stackalloc float[256];
        int written = 0;
        int pushed = 0;
        while (_n < expectedTotal && written < output.Length && pushed <= _w + 256)
        {
            int max = (int)Math.Min(output.Length - written, expectedTotal - _n);
            written += Process(zeros, output.Slice(written, max), countInput: false);
            pushed += zeros.Length;
        }
        return written;
    }

    private void Append(ReadOnlySpan<float> input)
    {
        if (_bufLen + input.Length > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, _bufLen + input.Length));
        input.CopyTo(_buf.AsSpan(_bufLen));
        _bufLen += input.Length;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (Fma.IsSupported && a.Length >= 32) return DotFma(a, b);
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
            var acc = Vector<float>.Zero;
            for (int v = 0; v < va.Length; v++) acc += va[v] * vb[v];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static float DotFma(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        if (b.Length < n) throw new ArgumentException("b is shorter than a", nameof(b));
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            s0 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), s0);
            s1 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 8)), s1);
            s2 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 16)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 16)), s2);
            s3 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)(i + 24)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 24)), s3);
        }
        for (; i <= n - 8; i += 8) s0 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), s0);
        float sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double BesselI0(double x)
    {
        double sum = 1, term = 1, half = x / 2;
        for (int k = 1; k < 64; k++)
        {
            term *= half / k * (half / k);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        return sum;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
