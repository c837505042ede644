using System.Numerics;

namespace MoeFunctions.Corpus;

/// <summary>
/// Classical vocoders built here for the D1 fakes: Griffin-Lim phase reconstruction from an 80-band mel
/// spectrogram, and an LPC-10 style pulse/noise-excited LPC vocoder. Both are deterministic given the rng.
/// </summary>
public static class Vocoders
{
    const int NFft = 1024, Hop = 256, NMels = 80;

    static double[] Hann(int n)
    {
        var w = new double[n];
        for (int i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / n);
        return w;
    }

    static void Ifft(Complex[] x) => Fft.Inverse(x);

    static Complex[][] Stft(double[] x, double[] w)
    {
        int frames = 1 + Math.Max(0, (x.Length - NFft) / Hop);
        var S = new Complex[frames][];
        for (int t = 0; t < frames; t++)
        {
            var buf = new Complex[NFft];
            for (int i = 0; i < NFft; i++) buf[i] = x[t * Hop + i] * w[i];
            Fft.Forward(buf);
            S[t] = buf[..(NFft / 2 + 1)];
        }
        return S;
    }

    static double[] Istft(Complex[][] S, double[] w, int length)
    {
        var y = new double[length];
        var norm = new double[length];
        var buf = new Complex[NFft];
        for (int t = 0; t < S.Length; t++)
        {
            for (int k = 0; k <= NFft / 2; k++) buf[k] = S[t][k];
            for (int k = 1; k < NFft / 2; k++) buf[NFft - k] = Complex.Conjugate(S[t][k]);
            Ifft(buf);
            for (int i = 0; i < NFft; i++)
            {
                int j = t * Hop + i;
                if (j >= length) break;
                y[j] += buf[i].Real * w[i];
                norm[j] += w[i] * w[i];
            }
        }
        for (int i = 0; i < length; i++) if (norm[i] > 1e-8) y[i] /= norm[i];
        return y;
    }

    static double HzToMel(double f) => 2595 * Math.Log10(1 + f / 700);
    static double MelToHz(double m) => 700 * (Math.Pow(10, m / 2595) - 1);

    /// <summary>Triangular HTK mel filterbank, NMels x (NFft/2+1).</summary>
    static double[,] MelBank(int rate)
    {
        int bins = NFft / 2 + 1;
        var fb = new double[NMels, bins];
        double lo = HzToMel(0), hi = HzToMel(rate / 2.0);
        var pts = Enumerable.Range(0, NMels + 2).Select(i => MelToHz(lo + (hi - lo) * i / (NMels + 1))).ToArray();
        for (int m = 0; m < NMels; m++)
            for (int k = 0; k < bins; k++)
            {
                double f = k * rate / (double)NFft;
                double up = (f - pts[m]) / (pts[m + 1] - pts[m]), down = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
                fb[m, k] = Math.Max(0, Math.Min(up, down));
            }
        return fb;
    }

    /// <summary>Mel power spectrogram -> approximate linear magnitude -> Griffin-Lim phase recovery.</summary>
    public static Signal GriffinLim(Signal s, Random rng, int iterations = 32)
    {
        var w = Hann(NFft);
        var x = new double[s.Samples.Length + NFft];
        for (int i = 0; i < s.Samples.Length; i++) x[i + NFft / 2] = s.Samples[i];
        var S = Stft(x, w);
        var fb = MelBank(s.Rate);
        int bins = NFft / 2 + 1;
        // Pseudo-inverse by the normalised transpose: each bin takes a weighted mean of its bands' energy per bin.
        var colSum = new double[bins];
        var rowSum = new double[NMels];
        for (int m = 0; m < NMels; m++) for (int k = 0; k < bins; k++) { colSum[k] += fb[m, k]; rowSum[m] += fb[m, k]; }
        var mag = new double[S.Length][];
        for (int t = 0; t < S.Length; t++)
        {
            var mel = new double[NMels];
            for (int m = 0; m < NMels; m++)
            {
                double e = 0;
                for (int k = 0; k < bins; k++) e += fb[m, k] * S[t][k].Magnitude * S[t][k].Magnitude;
                mel[m] = e / Math.Max(rowSum[m], 1e-9);
            }
            mag[t] = new double[bins];
            for (int k = 0; k < bins; k++)
            {
                double e = 0;
                for (int m = 0; m < NMels; m++) e += fb[m, k] * mel[m];
                mag[t][k] = colSum[k] > 1e-9 ? Math.Sqrt(e / colSum[k]) : 0;
            }
        }
        var est = new Complex[S.Length][];
        for (int t = 0; t < S.Length; t++)
        {
            est[t] = new Complex[bins];
            for (int k = 0; k < bins; k++) est[t][k] = Complex.FromPolarCoordinates(mag[t][k], rng.NextDouble() * 2 * Math.PI);
        }
        double[] y = Istft(est, w, x.Length);
        for (int it = 0; it < iterations; it++)
        {
            var R = Stft(y, w);
            for (int t = 0; t < Math.Min(R.Length, est.Length); t++)
                for (int k = 0; k < bins; k++)
                {
                    double a = R[t][k].Magnitude;
                    est[t][k] = a > 1e-12 ? R[t][k] / a * mag[t][k] : new Complex(mag[t][k], 0);
                }
            y = Istft(est, w, x.Length);
        }
        var outS = new float[s.Samples.Length];
        for (int i = 0; i < outS.Length; i++) outS[i] = (float)y[i + NFft / 2];
        return new Signal(outS, s.Rate);
    }

    /// <summary>
    /// LPC vocoder: per 20 ms frame an all-pole envelope (order 2 + rate/1000), a gain and a voiced/unvoiced
    /// decision with an autocorrelation pitch; resynthesised from a pulse train or white noise.
    /// </summary>
    public static Signal Lpc(Signal s, Random rng)
    {
        int rate = s.Rate, order = 2 + rate / 1000, frame = rate / 50, hop = rate / 100;
        var x = s.Samples;
        var win = new double[frame];
        for (int i = 0; i < frame; i++) win[i] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * i / (frame - 1));
        double winPow = win.Sum(v => v * v) / frame;
        var y = new float[x.Length];
        var mem = new double[order];
        double phase = 0;
        int minLag = rate / 400, maxLag = rate / 60;
        for (int start = 0; start + hop <= x.Length; start += hop)
        {
            var f = new double[frame];
            for (int i = 0; i < frame; i++) { int j = start + i - (frame - hop) / 2; f[i] = j >= 0 && j < x.Length ? x[j] * win[i] : 0; }
            var r = new double[order + 1];
            for (int l = 0; l <= order; l++) for (int i = l; i < frame; i++) r[l] += f[i] * f[i - l];
            r[0] *= 1 + 1e-9; // white-noise correction keeps Levinson stable
            var a = new double[order + 1];
            double err = Levinson(r, a);
            double gain = Math.Sqrt(Math.Max(err, 0) / (frame * winPow));
            // Pitch from the normalised autocorrelation of the frame.
            double best = 0; int lag = 0;
            for (int l = minLag; l <= Math.Min(maxLag, frame - 1); l++)
            {
                double c = 0, e1 = 0, e2 = 0;
                for (int i = l; i < frame; i++) { c += f[i] * f[i - l]; e1 += f[i] * f[i]; e2 += f[i - l] * f[i - l]; }
                double nc = c / Math.Sqrt(e1 * e2 + 1e-12);
                if (nc > best) { best = nc; lag = l; }
            }
            bool voiced = best > 0.4 && lag > 0;
            for (int i = 0; i < hop; i++)
            {
                double e;
                if (voiced)
                {
                    phase += 1.0 / lag;
                    if (phase >= 1) { phase -= 1; e = Math.Sqrt(lag); } else e = 0;
                }
                else e = (rng.NextDouble() * 2 - 1) * Math.Sqrt(3);
                double v = gain * e;
                for (int k = 1; k <= order; k++) v -= a[k] * mem[k - 1];
                for (int k = order - 1; k > 0; k--) mem[k] = mem[k - 1];
                mem[0] = v;
                y[start + i] = (float)Math.Clamp(v, -1, 1);
            }
        }
        return new Signal(y, rate);
    }

    /// <summary>Levinson-Durbin: fills a[0..p] (a[0]=1) and returns the prediction error energy.</summary>
    static double Levinson(double[] r, double[] a)
    {
        int p = a.Length - 1;
        Array.Clear(a);
        a[0] = 1;
        double err = r[0];
        if (err <= 0) return 0;
        var tmp = new double[p + 1];
        for (int i = 1; i <= p; i++)
        {
            double acc = r[i];
            for (int j = 1; j < i; j++) acc += a[j] * r[i - j];
            double k = -acc / err;
            Array.Copy(a, tmp, p + 1);
            for (int j = 1; j < i; j++) a[j] = tmp[j] + k * tmp[i - j];
            a[i] = k;
            err *= 1 - k * k;
            if (err <= 0) return 0;
        }
        return err;
    }
}
