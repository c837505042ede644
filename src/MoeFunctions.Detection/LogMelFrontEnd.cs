namespace MoeFunctions.Detection;

/// <summary>
/// The expert's input features (DESIGN.md section 1): pre-emphasis, torchaudio-equivalent power mel spectrogram,
/// log(x + 1e-6), per-band mean removal. Output is mel-major: value [m, t] at index m * Frames + t.
/// One instance per thread (it owns scratch buffers).
/// </summary>
public sealed class LogMelFrontEnd
{
    public LogMelFrontEnd(FrontEndSpec spec, int windowSamples = 48000) => throw new NotImplementedException();

    public int Mels => throw new NotImplementedException();
    public int Frames => throw new NotImplementedException();

    public void Compute(ReadOnlySpan<float> window, Span<float> destination) => throw new NotImplementedException();
}
