using MoeFunctions.Audio;

namespace MoeFunctions.Detection;

/// <summary>
/// The expert's input features (DESIGN.md section 1): pre-emphasis, torchaudio-equivalent power mel spectrogram,
/// log(x + 1e-6), per-band mean removal. Output is mel-major: value [m, t] at index m * Frames + t.
/// One instance per thread (it owns scratch buffers); <see cref="Compute"/> allocates nothing.
/// </summary>
public sealed class LogMelFrontEnd
{
    private readonly int _nFft, _winLength, _hop, _samples, _half;
    private readonly double _preEmphasis;
    private readonly double _logOffset;
    private readonly bool _meanNormalise;
    private readonly double[] _window;            // periodic Hamming, winLength values
    private readonly int _windowOffset;           // where the window sits inside the n_fft frame (torch.stft centres it)
    private readonly RealFft _fft;
    private readonly int[] _melStart;             // first FFT bin of each filter
    private readonly double[][] _melWeights;      // the filter's non-zero weights from _melStart on
    private readonly double[] _padded;            // pre-emphasised, reflect-padded signal
    private readonly double[] _frame, _power;

    public LogMelFrontEnd(FrontEndSpec spec, int windowSamples = 48000, int sampleRate = 16000)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind != "logmel") throw new ArgumentException($"unsupported front end kind '{spec.Kind}'", nameof(spec));
        if (spec.NFft <= 0 || (spec.NFft & (spec.NFft - 1)) != 0 || spec.NFft < 8)
            throw new ArgumentException("NFft must be a power of two >= 8", nameof(spec));
        if (spec.WinLength <= 0 || spec.WinLength > spec.NFft) throw new ArgumentException("WinLength must be in 1..NFft", nameof(spec));
        if (spec.HopLength <= 0) throw new ArgumentException("HopLength must be positive", nameof(spec));
        if (windowSamples <= spec.NFft / 2) throw new ArgumentException("window too short for reflect padding", nameof(windowSamples));

        _nFft = spec.NFft;
        _winLength = spec.WinLength;
        _hop = spec.HopLength;
        _samples = windowSamples;
        _half = _nFft / 2;
        _preEmphasis = spec.PreEmphasis;
        _logOffset = spec.LogOffset;
        _meanNormalise = spec.MeanNormalise;
        Mels = spec.NMels;
        Frames = 1 + windowSamples / _hop; // torch.stft with center=True

        _window = new double[_winLength];
        for (var i = 0; i < _winLength; i++) _window[i] = 0.54 - 0.46 * Math.Cos(2 * Math.PI * i / _winLength);
        _windowOffset = (_nFft - _winLength) / 2;

        _fft = new RealFft(_nFft);
        (_melStart, _melWeights) = MelFilters(_half + 1, spec.FMin, spec.FMax, Mels, sampleRate);

        _padded = new double[windowSamples + _nFft];
        _frame = new double[_nFft];
        _power = new double[_half + 1];
    }

    public int Mels { get; }
    public int Frames { get; }
    public int OutputLength => Mels * Frames;

    public void Compute(ReadOnlySpan<float> window, Span<float> destination)
    {
        if (window.Length != _samples) throw new ArgumentException($"window must have {_samples} samples, got {window.Length}", nameof(window));
        if (destination.Length < OutputLength) throw new ArgumentException($"destination needs {OutputLength} values", nameof(destination));

        // Pre-emphasis; the sample before the first is x[1] (reflect pad of one), then the stft's reflect pad of n_fft/2.
        var pad = _half;
        var y = _padded.AsSpan(pad, _samples);
        y[0] = window[0] - _preEmphasis * (double)window[1];
        for (var n = 1; n < _samples; n++) y[n] = window[n] - _preEmphasis * (double)window[n - 1];
        for (var i = 1; i <= pad; i++)
        {
            _padded[pad - i] = _padded[pad + i];
            _padded[pad + _samples - 1 + i] = _padded[pad + _samples - 1 - i];
        }

        for (var t = 0; t < Frames; t++)
        {
            var start = t * _hop + _windowOffset;
            // Only the windowed part is non-zero; its position in the frame changes the phase, not the power.
            for (var j = 0; j < _winLength; j++) _frame[j] = _padded[start + j] * _window[j];
            Array.Clear(_frame, _winLength, _nFft - _winLength);
            _fft.Power(_frame, _power);

            for (var m = 0; m < Mels; m++)
            {
                var w = _melWeights[m];
                var k0 = _melStart[m];
                double sum = 0;
                for (var k = 0; k < w.Length; k++) sum += w[k] * _power[k0 + k];
                destination[m * Frames + t] = (float)Math.Log(sum + _logOffset);
            }
        }

        if (!_meanNormalise) return;
        for (var m = 0; m < Mels; m++)
        {
            var row = destination.Slice(m * Frames, Frames);
            double mean = 0;
            foreach (var v in row) mean += v;
            var mf = (float)(mean / Frames);
            for (var t = 0; t < Frames; t++) row[t] -= mf;
        }
    }

    /// <summary>torchaudio.functional.melscale_fbanks with the HTK scale and no normalisation, stored sparsely per filter.</summary>
    internal static (int[] Start, double[][] Weights) MelFilters(int nFreqs, double fMin, double fMax, int nMels, int sampleRate)
    {
        static double HzToMel(double f) => 2595.0 * Math.Log10(1.0 + f / 700.0);
        static double MelToHz(double m) => 700.0 * (Math.Pow(10.0, m / 2595.0) - 1.0);

        var mMin = HzToMel(fMin);
        var mMax = HzToMel(fMax);
        var fPts = new double[nMels + 2];
        for (var i = 0; i < fPts.Length; i++) fPts[i] = MelToHz(mMin + (mMax - mMin) * i / (nMels + 1));
        var starts = new int[nMels];
        var weights = new double[nMels][];
        for (var m = 0; m < nMels; m++)
        {
            var dense = new double[nFreqs];
            int first = -1, last = -1;
            for (var k = 0; k < nFreqs; k++)
            {
                var f = (double)(sampleRate / 2) * k / (nFreqs - 1);
                var down = (fPts[m + 2] - f) / (fPts[m + 2] - fPts[m + 1]);
                var up = (f - fPts[m]) / (fPts[m + 1] - fPts[m]);
                var v = Math.Max(0, Math.Min(down, up));
                dense[k] = v;
                if (v > 0) { if (first < 0) first = k; last = k; }
            }
            if (first < 0) { first = 0; last = -1; } // an empty filter (possible with many mels) contributes 0
            starts[m] = first;
            weights[m] = dense[first..(last + 1)];
        }
        return (starts, weights);
    }
}
