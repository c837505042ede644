using NAudio.Wave;

namespace MoeFunctions.Training.Data;

/// <summary>A decoded clip: 16 kHz mono float samples and its label.</summary>
public sealed record Clip(CorpusEntry Entry, float[] Samples)
{
    public bool Spoof => Entry.Spoof;
}

/// <summary>Decodes corpus files once (16 kHz mono WAV) and keeps them in memory: the feature cache of training.</summary>
public static class ClipStore
{
    public const int SampleRate = 16000;

    public static IReadOnlyList<Clip> Load(CorpusManifest manifest, IEnumerable<CorpusEntry> entries)
    {
        var list = entries.ToList();
        var clips = new Clip[list.Count];
        Parallel.For(0, list.Count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            clips[i] = new Clip(list[i], ReadWav(manifest.FullPath(list[i]))));
        return clips.Where(c => c.Samples.Length > 0).ToList();
    }

    /// <summary>Reads a 16 kHz WAV and downmixes to mono; other rates are refused with the file named.</summary>
    public static float[] ReadWav(string path)
    {
        using var reader = new WaveFileReader(path);
        if (reader.WaveFormat.SampleRate != SampleRate)
            throw new InvalidDataException($"{path}: {reader.WaveFormat.SampleRate} Hz; the corpus must be 16 kHz (resample it first)");
        ISampleProvider provider = reader.ToSampleProvider();
        int channels = provider.WaveFormat.Channels;
        var buffer = new float[SampleRate * channels];
        var mono = new List<float>((int)(reader.SampleCount));
        int read;
        while ((read = provider.Read(buffer.AsSpan())) > 0)
            for (int i = 0; i + channels <= read; i += channels)
            {
                float sum = 0;
                for (int c = 0; c < channels; c++) sum += buffer[i + c];
                mono.Add(sum / channels);
            }
        return mono.ToArray();
    }

    /// <summary>Writes samples into a window, tiling (repeating) a clip shorter than the window as the reference does.</summary>
    public static void CropInto(float[] samples, int start, Span<float> window)
    {
        if (samples.Length >= window.Length) { samples.AsSpan(start, window.Length).CopyTo(window); return; }
        for (int i = 0; i < window.Length; i += samples.Length)
            samples.AsSpan(0, Math.Min(samples.Length, window.Length - i)).CopyTo(window[i..]);
    }

    /// <summary>The reference's evaluation window: the middle 3 s (tiled when shorter).</summary>
    public static float[] MiddleWindow(float[] samples, int windowSamples = 48000)
    {
        var w = new float[windowSamples];
        CropInto(samples, Math.Max(0, (samples.Length - windowSamples) / 2), w);
        return w;
    }
}
