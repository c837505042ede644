using MoeFunctions.Detection;
using MoeFunctions.Training.Networks;

namespace MoeFunctions.Training;

/// <summary>
/// Where an expert's weights come from: a run folder (its best.pt), a .pt file written by a run, or an ONNX expert written
/// by <see cref="OnnxGraphWriter.WriteExpert(IReadOnlyDictionary{string, NamedTensor})"/> such as a bundle's
/// <c>expert-D1.onnx</c>; in a list, a bundle folder stands for all its experts. ONNX experts let a user who has only a
/// bundle (models/default ships no checkpoints) fine-tune a new expert from one of its experts, train gates over them and
/// bundle them again with a new expert.
/// </summary>
public static class ExpertWeights
{
    public static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    public static bool IsBundle(string path) => Directory.Exists(path) && File.Exists(Path.Combine(path, ModelBundle.ManifestFile));

    /// <summary>Each path as a weights file: a bundle folder becomes its expert files in bundle order, a run folder its best.pt.</summary>
    /// <exception cref="BundleException">A bundle folder that does not verify.</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> paths) => paths.SelectMany(ExpandOne).ToList();

    private static IEnumerable<string> ExpandOne(string path)
    {
        if (!IsBundle(path)) return [BundleBuilder.WeightsFile(path)];
        var bundle = ModelBundle.Load(path);
        return bundle.Manifest.Experts.Select(e => bundle.PathOf(e.File));
    }

    /// <summary>The LCNN with these weights, in eval mode. From ONNX, each batch norm comes back folded (weight = scale,
    /// bias = shift, running mean 0, variance 1 - eps): the same eval-mode function; <see cref="Lcnn.RefitBatchNorms"/>
    /// makes it fit for training.</summary>
    /// <exception cref="InvalidDataException">An ONNX file that is not an LCNN expert.</exception>
    public static Lcnn Load(string file)
    {
        var model = new Lcnn();
        try { LoadInto(model, file); }
        catch { model.Dispose(); throw; }
        model.eval();
        return model;
    }

    /// <summary>Copies the weights of a .pt or an ONNX expert file into <paramref name="model"/>.</summary>
    /// <exception cref="InvalidDataException">An ONNX file that is not an LCNN expert (the message names the file).</exception>
    public static void LoadInto(Lcnn model, string file)
    {
        if (!IsOnnx(file))
        {
            model.load(file);
            return;
        }
        Dictionary<string, NamedTensor> weights;
        try { weights = ExpertQuantizer.ReadWeights(File.ReadAllBytes(file)); }
        catch (InvalidDataException ex) { throw new InvalidDataException($"{file}: {ex.Message}", ex); }
        Export.Load(model, weights, file);
    }

    /// <summary>The domain the expert was trained on: its run's provenance.json, or its entry in the bundle whose folder holds
    /// the ONNX file; null when unknown or pooled ("all").</summary>
    public static string? Domain(string file) =>
        IsOnnx(file) ? BundleEntry(file)?.Entry.Domain : TrainingPipeline.ProvenanceDomain(RunFolder(file));

    /// <summary>The corpus sources the weights saw: the run's provenance.json, or the holding bundle's training.sources.</summary>
    public static IReadOnlyList<string> Sources(string file) =>
        IsOnnx(file) ? BundleEntry(file)?.Bundle.Manifest.Training?.Sources ?? [] : TrainingPipeline.ProvenanceSources(RunFolder(file));

    private static string RunFolder(string file) => Path.GetDirectoryName(Path.GetFullPath(file))!;

    private static (ModelBundle Bundle, ExpertEntry Entry)? BundleEntry(string onnxFile)
    {
        var dir = RunFolder(onnxFile);
        if (!IsBundle(dir)) return null;
        var bundle = ModelBundle.Load(dir);
        var entry = bundle.Manifest.Experts.FirstOrDefault(e => string.Equals(bundle.PathOf(e.File), Path.GetFullPath(onnxFile), StringComparison.Ordinal));
        return entry is null ? null : (bundle, entry);
    }
}
