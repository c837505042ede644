namespace MoeFunctions.Detection;

/// <summary>A verified model bundle folder: moe.json plus ONNX files.</summary>
public sealed class ModelBundle
{
    public required string Directory { get; init; }
    public required BundleManifest Manifest { get; init; }
    /// <summary>SHA-256 (hex) of moe.json; it pins every file through their listed hashes.</summary>
    public required string Sha256 { get; init; }

    /// <summary>Loads and verifies: schema, front-end parameters, every file's presence and SHA-256, ONNX input/output names and shapes.</summary>
    /// <exception cref="BundleException">Names the file and the problem.</exception>
    public static ModelBundle Load(string directory) => throw new NotImplementedException();
}

public sealed class BundleException(string message, Exception? inner = null) : Exception(message, inner);
