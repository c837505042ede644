using MoeFunctions.Detection;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeFunctions.Training.Networks;

/// <summary>
/// The DESIGN.md section 1 front end in libtorch ops (torch.stft + torchaudio's HTK mel filter bank), batched for
/// training: [N, 48000] waveforms -> [N, 1, 80, 301] mean-normalised log-mel. The scanner computes the same values with
/// the managed <see cref="LogMelFrontEnd"/>; FrontEndParityTests proves they agree to 1e-3.
/// </summary>
public sealed class TorchLogMel : IDisposable
{
    private readonly FrontEndSpec spec;
    private readonly Tensor window;
    private readonly Tensor filterBank; // [n_fft/2+1, n_mels]

    public TorchLogMel(FrontEndSpec? spec = null)
    {
        this.spec = spec ?? new FrontEndSpec();
        window = hamming_window(this.spec.WinLength, periodic: true, dtype: float32);
        filterBank = tensor(MelFilterBank(this.spec.NFft / 2 + 1, this.spec.FMin, this.spec.FMax, this.spec.NMels, 16000))
            .reshape(this.spec.NFft / 2 + 1, this.spec.NMels);
    }

    /// <summary>torchaudio.functional.melscale_fbanks(norm=None, mel_scale="htk"), row-major [freqs, mels], in float32 as torchaudio computes it.</summary>
    public static float[] MelFilterBank(int freqs, double fMin, double fMax, int mels, int sampleRate)
    {
        static float HzToMel(float f) => 2595.0f * MathF.Log10(1.0f + f / 700.0f);
        static float MelToHz(float m) => 700.0f * (MathF.Pow(10.0f, m / 2595.0f) - 1.0f);
        var allFreqs = new float[freqs];
        for (int i = 0; i < freqs; i++) allFreqs[i] = (float)((sampleRate / 2) * (double)i / (freqs - 1));
        float mMin = HzToMel((float)fMin), mMax = HzToMel((float)fMax);
        var fPts = new float[mels + 2];
        for (int i = 0; i < mels + 2; i++) fPts[i] = MelToHz(mMin + (mMax - mMin) * i / (mels + 1));
        var fb = new float[freqs * mels];
        for (int f = 0; f < freqs; f++)
            for (int m = 0; m < mels; m++)
            {
                float down = -(fPts[m] - allFreqs[f]) / (fPts[m + 1] - fPts[m]);
                float up = (fPts[m + 2] - allFreqs[f]) / (fPts[m + 2] - fPts[m + 1]);
                fb[f * mels + m] = MathF.Max(0f, MathF.Min(down, up));
            }
        return fb;
    }

    /// <summary>[N, samples] -> [N, 1, mels, frames].</summary>
    public Tensor Compute(Tensor waveforms)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = waveforms.to_type(float32);
        // Pre-emphasis with the first sample reflect-padded: y[0] = x[0] - a*x[1].
        var previous = cat(new[] { x.narrow(1, 1, 1), x.narrow(1, 0, x.shape[1] - 1) }, 1);
        var y = x - (float)spec.PreEmphasis * previous;
        var stft = torch.stft(y, spec.NFft, spec.HopLength, spec.WinLength, window, center: true,
            pad_mode: PaddingModes.Reflect, normalized: false, onesided: true, return_complex: true);
        var power = stft.abs().pow(2);                                   // [N, freqs, frames]
        var mel = matmul(power.transpose(1, 2), filterBank).transpose(1, 2); // [N, mels, frames]
        var logMel = (mel + (float)spec.LogOffset).log();
        if (spec.MeanNormalise) logMel = logMel - logMel.mean(new long[] { 2 }, keepdim: true);
        return logMel.unsqueeze(1).contiguous().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        window.Dispose();
        filterBank.Dispose();
    }
}
