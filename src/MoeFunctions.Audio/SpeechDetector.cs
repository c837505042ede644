namespace MoeFunctions.Audio;

/// <summary>Per-window speech features, exposed for tests and diagnostics.</summary>
/// <param name="SpeechFraction">Share of frames judged speech (0 when the window as a whole is not speech-like).</param>
/// <param name="ActiveFraction">Share of frames within 35 dB of the window's loudest frame and above -55 dBFS.</param>
/// <param name="MedianFlatness">Median spectral flatness of active frames (white noise is about 0.55, voiced speech far lower).</param>
/// <param name="MedianFlux">Median level-normalised change of the band spectrum between consecutive active frames, in dB.</param>
/// <param name="DynamicsDb">Standard deviation of frame energy over the window, in dB (syllables and pauses make speech's large).</param>
/// <param name="UpperQuartileFlux">75th percentile of the same flux values as <paramref name="MedianFlux"/>, in dB.</param>
public sealed record SpeechFeatures(double SpeechFraction, double ActiveFraction, double MedianFlatness, double MedianFlux, double DynamicsDb,
    double UpperQuartileFlux = 0);

/// <summary>
/// A small speech/no-speech detector for 16 kHz windows. Speech is loud relative to its pauses (energy dynamics), not
/// noise-like (low spectral flatness), and its spectral shape keeps changing (formant transitions, voiced/unvoiced
/// alternation: high spectral flux). Silence fails the energy floor, white noise the flatness test, pure tones and held
/// chords the flux and dynamics tests. Thresholds were set on generated signals, espeak-ng speech and real recordings
/// (see SpeechDetectionTests).
/// A single word is mostly one held vowel, so its median flux can stay under <see cref="MinFlux"/> although its consonant
/// transitions change the spectrum sharply: such a window also passes when the upper quartile of the flux reaches
/// <see cref="MinFlux"/> and the median is at least <see cref="MinVowelFlux"/>. A voice's held vowel still wobbles (jitter,
/// formant drift: median 0.7-2 dB on the corpus's D4 words), while a tone burst, an AM tone or a synthetic melody is
/// frozen between its changes (median under 0.1 dB). See ShortUtteranceTests.
/// </summary>
public static class SpeechDetector
{
    private const int FrameLen = 400, Hop = 320, Fft = 512, Bands = 16;
    public const double FloorDbfs = -55, ActiveRangeDb = 35, MaxFrameFlatness = 0.15, MaxMedianFlatness = 0.05, MinFlux = 2.0, MinVowelFlux = 0.5, MinDynamicsDb = 3.0;
    private static readonly float[] Hann = MakeHann();
    private static readonly int[] BandEdges = MakeBands();
    [ThreadStatic] private static RealFft? t_fft; // owns scratch buffers: one per thread

    public static SpeechFeatures Analyze(ReadOnlySpan<float> samples)
    {
        int frames = samples.Length < FrameLen ? 0 : 1 + (samples.Length - FrameLen) / Hop;
        if (frames == 0) return new SpeechFeatures(0, 0, 1, 0, 0);
        var energy = new double[frames];
        for (int f = 0; f < frames; f++)
        {
            var x = samples.Slice(f * Hop, FrameLen);
            double sum = 0;
            for (int i = 0; i < FrameLen; i++) sum += x[i] * (double)x[i];
            energy[f] = 10 * Math.Log10(sum / FrameLen + 1e-20);
        }
        // No frame above the floor means no active frame: the same answer as below, without the FFTs (an hour of digital
        // silence is 1,200 windows of 149 frames each).
        if (energy.Max() <= FloorDbfs) return new SpeechFeatures(0, 0, 1, 0, 0);

        var flatness = new double[frames];
        var bands = new double[frames * Bands];
        var fft = t_fft ??= new RealFft(Fft);
        var buf = new double[Fft]; // zero beyond FrameLen
        var power = new double[Fft / 2 + 1];
        for (int f = 0; f < frames; f++)
        {
            var x = samples.Slice(f * Hop, FrameLen);
            for (int i = 0; i < FrameLen; i++) buf[i] = x[i] * Hann[i];
            fft.Power(buf, power);
            for (int k = 0; k <= Fft / 2; k++) power[k] += 1e-12;
            flatness[f] = Math.Exp(LogSum(power.AsSpan(4, 237)) / 237) / (Sum(power.AsSpan(4, 237)) / 237);
            for (int b = 0; b < Bands; b++)
            {
                double e = 0;
                for (int k = BandEdges[b]; k < BandEdges[b + 1]; k++) e += power[k];
                bands[f * Bands + b] = 10 * Math.Log10(e);
            }
        }
        double peak = energy.Max();
        var active = new bool[frames];
        int activeCount = 0;
        for (int f = 0; f < frames; f++) { active[f] = energy[f] > peak - ActiveRangeDb && energy[f] > FloorDbfs; if (active[f]) activeCount++; }
        if (activeCount == 0) return new SpeechFeatures(0, 0, 1, 0, 0);

        var flats = new List<double>(activeCount);
        var fluxes = new List<double>(activeCount);
        Span<double> d = stackalloc double[Bands];
        for (int f = 0; f < frames; f++)
        {
            if (!active[f]) continue;
            flats.Add(flatness[f]);
            if (f == 0 || !active[f - 1]) continue;
            double floorA = MaxOf(bands.AsSpan(f * Bands, Bands)) - 50, floorB = MaxOf(bands.AsSpan((f - 1) * Bands, Bands)) - 50;
            double mean = 0;
            for (int b = 0; b < Bands; b++)
            {
                d[b] = Math.Max(bands[f * Bands + b], floorA) - Math.Max(bands[(f - 1) * Bands + b], floorB);
                mean += d[b];
            }
            mean /= Bands;
            double flux = 0;
            for (int b = 0; b < Bands; b++) flux += Math.Abs(d[b] - mean);
            fluxes.Add(flux / Bands);
        }
        double meanE = 0, varE = 0;
        foreach (double e in energy) meanE += Math.Max(e, peak - 50);
        meanE /= frames;
        foreach (double e in energy) { double v = Math.Max(e, peak - 50) - meanE; varE += v * v; }
        double dynamics = Math.Sqrt(varE / frames);
        double medFlat = Median(flats), medFlux = fluxes.Count > 0 ? Median(fluxes) : 0;
        double upperFlux = fluxes.Count > 0 ? fluxes[Math.Min(fluxes.Count - 1, 3 * fluxes.Count / 4)] : 0; // sorted by Median

        bool changing = medFlux >= MinFlux || (upperFlux >= MinFlux && medFlux >= MinVowelFlux);
        bool speechLike = changing && dynamics >= MinDynamicsDb && medFlat <= MaxMedianFlatness;
        int speechFrames = 0;
        if (speechLike)
            for (int f = 0; f < frames; f++) if (active[f] && flatness[f] < MaxFrameFlatness) speechFrames++;
        return new SpeechFeatures(speechFrames / (double)frames, activeCount / (double)frames, medFlat, medFlux, dynamics, upperFlux);
    }

    private static double MaxOf(ReadOnlySpan<double> s)
    {
        double m = double.NegativeInfinity;
        foreach (double v in s) m = Math.Max(m, v);
        return m;
    }

    private static double Median(List<double> v)
    {
        v.Sort();
        return v.Count % 2 == 1 ? v[v.Count / 2] : 0.5 * (v[v.Count / 2 - 1] + v[v.Count / 2]);
    }

    /// <summary>Sum of the logs as logs of products of 16, so a frame takes 15 logs instead of 237: each power is in
    /// [1e-12, 2e5] for decoded audio (400 windowed samples of at most 1), far inside the double range for 16 factors.
    /// A chunk whose product leaves the range (samples far beyond full scale) sums its logs one by one.</summary>
    private static double LogSum(ReadOnlySpan<double> v)
    {
        double sum = 0;
        for (int i = 0; i < v.Length; i += 16)
        {
            var chunk = v.Slice(i, Math.Min(16, v.Length - i));
            double p = 1;
            foreach (double x in chunk) p *= x;
            if (p > 0 && double.IsFinite(p)) sum += Math.Log(p);
            else foreach (double x in chunk) sum += Math.Log(x);
        }
        return sum;
    }

    private static double Sum(ReadOnlySpan<double> v)
    {
        double sum = 0;
        foreach (double x in v) sum += x;
        return sum;
    }

    private static float[] MakeHann()
    {
        var w = new float[FrameLen];
        for (int i = 0; i < FrameLen; i++) w[i] = (float)(0.5 - 0.5 * Math.Cos(2 * Math.PI * i / FrameLen));
        return w;
    }

    private static int[] MakeBands()
    {
        // 16 log-spaced bands from 100 Hz to 7600 Hz (bin width 31.25 Hz).
        var edges = new int[Bands + 1];
        for (int b = 0; b <= Bands; b++)
            edges[b] = (int)Math.Round(100 * Math.Pow(7600.0 / 100, b / (double)Bands) / 31.25);
        for (int b = 1; b <= Bands; b++) edges[b] = Math.Max(edges[b], edges[b - 1] + 1);
        return edges;
    }
}
