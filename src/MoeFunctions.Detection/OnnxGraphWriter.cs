namespace MoeFunctions.Detection;

/// <summary>Writes the expert and gate networks as ONNX graphs from weight tensors named as in <see cref="ModelNames"/>.</summary>
public static class OnnxGraphWriter
{
    /// <summary>LCNN expert: input <see cref="ModelNames.ExpertInput"/>, outputs <see cref="ModelNames.ExpertProbs"/> and <see cref="ModelNames.ExpertEmbedding"/>.</summary>
    public static byte[] WriteExpert(IReadOnlyDictionary<string, NamedTensor> weights) => throw new NotImplementedException();

    /// <summary>Classic gate: Linear(48000 -> E) + softmax over the raw window.</summary>
    public static byte[] WriteClassicGate(IReadOnlyDictionary<string, NamedTensor> weights) => throw new NotImplementedException();

    /// <summary>Enhanced gate over the experts' embeddings [N, E, 64].</summary>
    public static byte[] WriteEnhancedGate(IReadOnlyDictionary<string, NamedTensor> weights, int experts) => throw new NotImplementedException();
}
