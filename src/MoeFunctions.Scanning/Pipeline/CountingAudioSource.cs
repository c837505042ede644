using MoeFunctions.Audio;

namespace MoeFunctions.Scanning.Pipeline;

/// <summary>Counts the samples the windower pulls, giving the exact decoded duration even when the container states none.</summary>
internal sealed class CountingAudioSource(IMonoAudioSource inner) : IMonoAudioSource
{
    private long _samples;

    public MediaFacts Facts => inner.Facts;
    public long Samples => Interlocked.Read(ref _samples);
    public double Seconds => Samples / (double)MediaDecoder.TargetSampleRate;

    public int Read(Span<float> destination)
    {
        var n = inner.Read(destination);
        Interlocked.Add(ref _samples, n);
        return n;
    }

    public void Dispose() => inner.Dispose();
}
