using MoeFunctions.Detection;

namespace MoeFunctions.Benchmarks;

/// <summary>Multiply-accumulates of one LCNN window, counted from the layer shapes in <see cref="ModelNames"/>.</summary>
public static class LcnnCost
{
    public static (long Conv, long Dense) MacsPerWindow()
    {
        long conv = 0;
        int h = ModelNames.Mels, w = ModelNames.Frames, inChannels = 1;
        foreach (var n in ModelNames.LcnnConvs)
        {
            var (outChannels, kernel, poolAfter) = ModelNames.LcnnLayer(n);
            // "same" padding: the output map equals the input map.
            conv += (long)outChannels * h * w * inChannels * kernel * kernel;
            inChannels = outChannels / 2;
            if (poolAfter) { h /= 2; w /= 2; }
        }
        long dense = (long)inChannels * ModelNames.PoolOutH * ModelNames.PoolOutW * 2 * ModelNames.EmbeddingSize
                     + ModelNames.EmbeddingSize * 2L;
        return (conv, dense);
    }

    public static long TotalMacs { get { var (c, d) = MacsPerWindow(); return c + d; } }
    /// <summary>One MAC = 2 FLOPs.</summary>
    public static double GflopPerWindow => 2.0 * TotalMacs / 1e9;
}
