namespace MoeFunctions.Corpus;

/// <summary>The level and silence handling every class of a domain goes through identically.</summary>
public static class SignalOps
{
    const double FrameS = 0.02;

    /// <summary>Per-frame RMS in dBFS over 20 ms frames.</summary>
    public static double[] FrameDb(float[] x, int rate)
    {
        int f = Math.Max(1, (int)(rate * FrameS));
        int n = Math.Max(1, x.Length / f);
        var db = new double[n];
        for (int i = 0; i < n; i++)
        {
            double e = 0;
            int start = i * f, end = Math.Min(x.Length, start + f);
            for (int j = start; j < end; j++) e += x[j] * (double)x[j];
            db[i] = 10 * Math.Log10(e / Math.Max(1, end - start) + 1e-12);
        }
        return db;
    }

    /// <summary>
    /// Cuts leading and trailing silence: frames more than <paramref name="belowPeakDb"/> under the loudest
    /// frame, keeping <paramref name="marginS"/> of context on each side. Same rule for real and fake.
    /// </summary>
    public static Signal TrimSilence(Signal s, double belowPeakDb = 40, double marginS = 0.1)
    {
        var db = FrameDb(s.Samples, s.Rate);
        double peak = db.Max();
        // Recordings have a noise floor with occasional spikes: stay well above the quietest tenth of frames.
        double floor = db.Order().ElementAt(db.Length / 10);
        double thr = Math.Max(Math.Max(peak - belowPeakDb, -70), Math.Min(peak - 15, floor + 12));
        int first = Array.FindIndex(db, d => d > thr), last = Array.FindLastIndex(db, d => d > thr);
        if (first < 0) return new Signal([], s.Rate);
        int f = (int)(s.Rate * FrameS), m = (int)(s.Rate * marginS);
        int a = Math.Max(0, first * f - m), b = Math.Min(s.Samples.Length, (last + 1) * f + m);
        return new Signal(s.Samples[a..b], s.Rate);
    }

    /// <summary>RMS in dBFS over the active frames (those within 30 dB of the loudest), a crude speech level.</summary>
    public static double ActiveLevelDb(float[] x, int rate)
    {
        var db = FrameDb(x, rate);
        if (db.Length == 0) return -120;
        double peak = db.Max();
        var active = db.Where(d => d > peak - 30).Select(d => Math.Pow(10, d / 10)).ToArray();
        return 10 * Math.Log10(active.Average() + 1e-12);
    }

    /// <summary>Scales to the target active level, then scales down if the peak would clip.</summary>
    public static Signal NormaliseLoudness(Signal s, double targetDb, double peakCeiling = 0.89)
    {
        if (s.Samples.Length == 0) return s;
        double gain = Math.Pow(10, (targetDb - ActiveLevelDb(s.Samples, s.Rate)) / 20);
        float peak = 0;
        foreach (var v in s.Samples) peak = Math.Max(peak, Math.Abs(v));
        if (peak * gain > peakCeiling) gain = peakCeiling / Math.Max(peak, 1e-9);
        var y = new float[s.Samples.Length];
        for (int i = 0; i < y.Length; i++) y[i] = (float)(s.Samples[i] * gain);
        return new Signal(y, s.Rate);
    }

    /// <summary>
    /// Adds a low white-noise floor relative to the speech level, so synthetic digital silence and
    /// recorded room noise look alike.
    /// </summary>
    public static Signal AddNoiseFloor(Signal s, double belowSpeechDb, Random rng)
    {
        double level = ActiveLevelDb(s.Samples, s.Rate) - belowSpeechDb;
        double sigma = Math.Pow(10, level / 20);
        // Uniform noise of the same RMS: cheap, and the job's own generator keeps it deterministic.
        double amp = sigma * Math.Sqrt(3) * 2;
        var y = new float[s.Samples.Length];
        for (int i = 0; i < y.Length; i++) y[i] = s.Samples[i] + (float)(amp * (rng.NextDouble() - 0.5));
        return new Signal(y, s.Rate);
    }

    /// <summary>Cuts a long signal into consecutive pieces of random length in [minS, maxS]; short ones stay whole.</summary>
    public static List<Signal> Segment(Signal s, double minS, double maxS, Random rng)
    {
        var pieces = new List<Signal>();
        int pos = 0, n = s.Samples.Length;
        while (pos < n)
        {
            int len = (int)(s.Rate * (minS + rng.NextDouble() * (maxS - minS)));
            if (n - pos < len + (int)(minS * s.Rate)) len = n - pos; // the tail joins the last piece
            pieces.Add(new Signal(s.Samples[pos..(pos + len)], s.Rate));
            pos += len;
        }
        return pieces;
    }

    /// <summary>
    /// Windowed-sinc resampler (Blackman window, 32 zero crossings each side) with a kernel table over 512
    /// fractional phases, so each output sample costs one short dot product.
    /// </summary>
    public static Signal Resample(Signal s, int rate)
    {
        if (s.Rate == rate) return s;
        double ratio = rate / (double)s.Rate, cutoff = Math.Min(1.0, ratio) * 0.95;
        const int half = 32, phases = 512;
        int reach = (int)Math.Ceiling(half / cutoff);
        int width = 2 * reach;
        var table = new float[(phases + 1) * width];
        for (int p = 0; p <= phases; p++)
            for (int k = 0; k < width; k++)
            {
                // Tap k sits at input index c - reach + 1 + k; its distance from t = c + p/phases.
                double d = ((double)p / phases + reach - 1 - k) * cutoff;
                if (Math.Abs(d) >= half) continue;
                double w = 0.42 + 0.5 * Math.Cos(Math.PI * d / half) + 0.08 * Math.Cos(2 * Math.PI * d / half);
                double sinc = d == 0 ? 1 : Math.Sin(Math.PI * d) / (Math.PI * d);
                table[p * width + k] = (float)(cutoff * sinc * w);
            }
        int n = (int)Math.Floor(s.Samples.Length * ratio);
        var y = new float[n];
        var x = s.Samples;
        for (int i = 0; i < n; i++)
        {
            double t = i / ratio;
            int c = (int)Math.Floor(t);
            int p = (int)Math.Round((t - c) * phases);
            int first = c - reach + 1, row = p * width;
            float acc = 0;
            int k0 = Math.Max(0, -first), k1 = Math.Min(width, x.Length - first);
            for (int k = k0; k < k1; k++) acc += x[first + k] * table[row + k];
            y[i] = acc;
        }
        return new Signal(y, rate);
    }

    /// <summary>Linear-phase FIR band-pass (Hamming-windowed sinc difference), zero-delay by centring.</summary>
    public static Signal BandPass(Signal s, double lowHz, double highHz, int taps = 129)
    {
        int m = taps / 2;
        var h = new double[taps];
        double fl = lowHz / s.Rate, fh = highHz / s.Rate;
        for (int i = 0; i < taps; i++)
        {
            int k = i - m;
            double w = 0.54 - 0.46 * Math.Cos(2 * Math.PI * i / (taps - 1));
            double hp = k == 0 ? 2 * fh : Math.Sin(2 * Math.PI * fh * k) / (Math.PI * k);
            double lp = lowHz <= 0 ? 0 : k == 0 ? 2 * fl : Math.Sin(2 * Math.PI * fl * k) / (Math.PI * k);
            h[i] = (hp - lp) * w;
        }
        var x = s.Samples;
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double acc = 0;
            int lo = Math.Max(0, i - m), hi = Math.Min(x.Length - 1, i + m);
            for (int j = lo; j <= hi; j++) acc += h[i - j + m] * x[j];
            y[i] = (float)acc;
        }
        return new Signal(y, s.Rate);
    }
}
