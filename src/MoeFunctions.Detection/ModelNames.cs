namespace MoeFunctions.Detection;

/// <summary>
/// The contract between training (TorchSharp), the ONNX graph writer and the scorer: tensor names of the weights
/// (PyTorch state_dict style) and the input/output names of the ONNX graphs.
/// </summary>
public static class ModelNames
{
    // ONNX graph inputs/outputs.
    public const string ExpertInput = "logmel";        // [N, 1, 80, 301] mean-normalised log-mel
    public const string ExpertProbs = "probs";         // [N, 2] softmax; column 0 = bona fide, 1 = spoof
    public const string ExpertEmbedding = "embedding"; // [N, 64] after the fc MFM, before BN1d
    public const string ClassicGateInput = "waveform"; // [N, 48000] raw window
    public const string EnhancedGateInput = "embeddings"; // [N, E, 64]
    public const string GateWeights = "weights";       // [N, E] softmax

    // LCNN expert weights. Convolutions "conv{n}.weight" [out,in,k,k] and "conv{n}.bias" [out] for n in LcnnConvs;
    // batch norms "bn{n}.weight|bias|running_mean|running_var" after the MFM of conv n for n in LcnnBatchNorms;
    // "fc1" 4096->128, "bn_fc" (BatchNorm1d 64), "fc2" 64->2 (Linear weights [out,in]).
    // Layer order: conv, MFM (max of channel halves), 2x2 max pool where LcnnLayer says so, then the batch norm.
    // The flatten before fc1 is PyTorch's view(N, -1) of [N, 32, 16, 8]: index c*128 + h*8 + w.
    public static readonly int[] LcnnConvs = [1, 4, 7, 11, 14, 17, 20, 23, 26];
    public static readonly int[] LcnnBatchNorms = [4, 7, 11, 17, 20, 23];

    // Classic gate: "gate.weight" [E, 48000], "gate.bias" [E].
    // Enhanced gate: "proj{i}.weight" [32,64], "proj{i}.bias" [32] for expert i = 0..E-1; shared "bn_proj" (32);
    // "product_scale" [32]; "fc1" [64, 32(E+1)]; "bn1" (64); "fc2" [E, 64]. LeakyReLU slope 0.01. Batch-norm eps 1e-5.
    public const double BatchNormEps = 1e-5;
    public const double LeakySlope = 0.01;

    // Fixed sizes of the graphs.
    public const int WindowSamples = 48000;
    public const int Mels = 80;
    public const int Frames = 301;
    public const int EmbeddingSize = 64;
    public const int EnhancedProjection = 32;
    public const int EnhancedHidden = 64;
    /// <summary>The LCNN's last feature map (after three 2x2 max pools of 80x301) and its adaptive max pool target.</summary>
    public const int PoolInH = 10, PoolInW = 37, PoolOutH = 16, PoolOutW = 8;

    /// <summary>Conv n of the LCNN: output channels (before the MFM halves them), square kernel (padding kernel/2), whether a 2x2 max pool follows the MFM.</summary>
    public static (int OutChannels, int Kernel, bool PoolAfter) LcnnLayer(int conv) => conv switch
    {
        1 => (64, 5, true),
        4 => (64, 1, false),
        7 => (96, 3, true),
        11 => (96, 1, false),
        14 => (128, 3, true),
        17 => (128, 1, false),
        20 => (64, 3, false),
        23 => (64, 1, false),
        26 => (64, 3, false),
        _ => throw new ArgumentOutOfRangeException(nameof(conv), conv, "not an LCNN conv layer"),
    };

    /// <summary>Every weight tensor of one LCNN expert with its shape (what <see cref="OnnxGraphWriter.WriteExpert"/> reads).</summary>
    public static IReadOnlyDictionary<string, int[]> ExpertShapes()
    {
        var shapes = new Dictionary<string, int[]>();
        var inChannels = 1;
        foreach (var n in LcnnConvs)
        {
            var (outChannels, kernel, _) = LcnnLayer(n);
            shapes[$"conv{n}.weight"] = [outChannels, inChannels, kernel, kernel];
            shapes[$"conv{n}.bias"] = [outChannels];
            if (LcnnBatchNorms.Contains(n)) AddBatchNorm(shapes, $"bn{n}", outChannels / 2);
            inChannels = outChannels / 2;
        }
        shapes["fc1.weight"] = [2 * EmbeddingSize, inChannels * PoolOutH * PoolOutW];
        shapes["fc1.bias"] = [2 * EmbeddingSize];
        AddBatchNorm(shapes, "bn_fc", EmbeddingSize);
        shapes["fc2.weight"] = [2, EmbeddingSize];
        shapes["fc2.bias"] = [2];
        return shapes;
    }

    public static IReadOnlyDictionary<string, int[]> ClassicGateShapes(int experts) =>
        new Dictionary<string, int[]> { ["gate.weight"] = [experts, WindowSamples], ["gate.bias"] = [experts] };

    public static IReadOnlyDictionary<string, int[]> EnhancedGateShapes(int experts)
    {
        var shapes = new Dictionary<string, int[]>();
        for (var i = 0; i < experts; i++)
        {
            shapes[$"proj{i}.weight"] = [EnhancedProjection, EmbeddingSize];
            shapes[$"proj{i}.bias"] = [EnhancedProjection];
        }
        AddBatchNorm(shapes, "bn_proj", EnhancedProjection);
        shapes["product_scale"] = [EnhancedProjection];
        shapes["fc1.weight"] = [EnhancedHidden, EnhancedProjection * (experts + 1)];
        shapes["fc1.bias"] = [EnhancedHidden];
        AddBatchNorm(shapes, "bn1", EnhancedHidden);
        shapes["fc2.weight"] = [experts, EnhancedHidden];
        shapes["fc2.bias"] = [experts];
        return shapes;
    }

    private static void AddBatchNorm(Dictionary<string, int[]> shapes, string layer, int channels)
    {
        foreach (var part in new[] { "weight", "bias", "running_mean", "running_var" }) shapes[$"{layer}.{part}"] = [channels];
    }
}

/// <summary>A named weight tensor in row-major order.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data);
