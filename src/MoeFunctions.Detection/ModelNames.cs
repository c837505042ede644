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
    public static readonly int[] LcnnConvs = [1, 4, 7, 11, 14, 17, 20, 23, 26];
    public static readonly int[] LcnnBatchNorms = [4, 7, 11, 17, 20, 23];

    // Classic gate: "gate.weight" [E, 48000], "gate.bias" [E].
    // Enhanced gate: "proj{i}.weight" [32,64], "proj{i}.bias" [32] for expert i = 0..E-1; shared "bn_proj" (32);
    // "product_scale" [32]; "fc1" [64, 32(E+1)]; "bn1" (64); "fc2" [E, 64]. LeakyReLU slope 0.01. Batch-norm eps 1e-5.
    public const double BatchNormEps = 1e-5;
    public const double LeakySlope = 0.01;
}

/// <summary>A named weight tensor in row-major order.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data);
