using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Onnx;

namespace MoeFunctions.Detection;

/// <summary>A verified model bundle folder: moe.json plus ONNX files.</summary>
public sealed class ModelBundle
{
    public const string ManifestFile = "moe.json";

    public required string Directory { get; init; }
    public required BundleManifest Manifest { get; init; }
    /// <summary>SHA-256 (hex) of moe.json; it pins every file through their listed hashes.</summary>
    public required string Sha256 { get; init; }

    public int ExpertCount => Manifest.Experts.Count;
    public string PathOf(string file) => Path.Combine(Directory, file);

    /// <summary>Loads and verifies: schema, front-end parameters, every file's presence and SHA-256, ONNX input/output names and shapes.</summary>
    /// <exception cref="BundleException">Names the file and the problem.</exception>
    public static ModelBundle Load(string directory)
    {
        var dir = Path.GetFullPath(directory);
        var manifestPath = Path.Combine(dir, ManifestFile);
        if (!File.Exists(manifestPath)) throw new BundleException($"{manifestPath}: manifest not found (is '{directory}' a model bundle folder?)");
        var bytes = File.ReadAllBytes(manifestPath);

        BundleManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<BundleManifest>(bytes, BundleJson.Options); }
        catch (JsonException ex) { throw new BundleException($"{manifestPath}: invalid manifest: {ex.Message}", ex); }
        if (manifest is null) throw new BundleException($"{manifestPath}: invalid manifest: null");

        VerifyManifest(manifestPath, manifest);
        var e = manifest.Experts.Count;
        foreach (var expert in manifest.Experts)
            VerifyOnnx(dir, expert.File, expert.Sha256,
                [(ModelNames.ExpertInput, [-1, 1, ModelNames.Mels, ModelNames.Frames])],
                [(ModelNames.ExpertProbs, [-1, 2]), (ModelNames.ExpertEmbedding, [-1, ModelNames.EmbeddingSize])]);
        var classic = manifest.Gates.Classic!;
        VerifyOnnx(dir, classic.File, classic.Sha256,
            [(ModelNames.ClassicGateInput, [-1, ModelNames.WindowSamples])], [(ModelNames.GateWeights, [-1, e])]);
        if (manifest.Gates.Enhanced is { } enhanced)
            VerifyOnnx(dir, enhanced.File, enhanced.Sha256,
                [(ModelNames.EnhancedGateInput, [-1, e, ModelNames.EmbeddingSize])], [(ModelNames.GateWeights, [-1, e])]);

        return new ModelBundle { Directory = dir, Manifest = manifest, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
    }

    private static void VerifyManifest(string path, BundleManifest m)
    {
        // DoesNotReturn lets the compiler see that the null checks below guard what follows them.
        [DoesNotReturn] void Fail(string problem) => throw new BundleException($"{path}: {problem}");

        if (m.Schema != BundleManifest.CurrentSchema) Fail($"schema '{m.Schema}' is not supported (expected '{BundleManifest.CurrentSchema}')");
        if (m.SampleRate != 16000) Fail($"sampleRate {m.SampleRate} is not supported (expected 16000)");
        if (m.WindowSamples != ModelNames.WindowSamples) Fail($"windowSamples {m.WindowSamples} is not supported (expected {ModelNames.WindowSamples})");
        if (m.DefaultHopSamples <= 0 || m.DefaultHopSamples > m.WindowSamples) Fail($"defaultHopSamples {m.DefaultHopSamples} must be in 1..{m.WindowSamples}");
        if (m.FrontEnd != new FrontEndSpec()) Fail($"frontEnd {m.FrontEnd} differs from the supported one {new FrontEndSpec()}");
        if (m.Experts is null || m.Experts.Count == 0) Fail("no experts listed");
        if (m.Gates?.Classic is null) Fail("gates.classic is required (it routes every mode but dense+enhanced)");
        var dup = m.Experts.GroupBy(x => x.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) Fail($"expert name '{dup.Key}' is listed {dup.Count()} times");
        if (m.Experts.Any(x => string.IsNullOrWhiteSpace(x.Name))) Fail("an expert has an empty name");
        var files = m.Experts.Select(x => x.File).Append(m.Gates.Classic.File);
        if (m.Gates.Enhanced is { } en) files = files.Append(en.File);
        var dupFile = files.GroupBy(f => f, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dupFile is not null) Fail($"file '{dupFile.Key}' is listed more than once");
        if (m.Routing.TopK < 1 || m.Routing.TopK > m.Experts.Count) Fail($"routing.topK {m.Routing.TopK} must be in 1..{m.Experts.Count}");
        if (m.Routing.Gate == GateKind.Enhanced && m.Gates.Enhanced is null) Fail("routing.gate is enhanced but gates.enhanced is missing");
        if (!(m.Routing.CascadeMargin >= 0 && m.Routing.CascadeMargin <= 1)) Fail($"routing.cascadeMargin {m.Routing.CascadeMargin} must be in 0..1");
        if (!double.IsFinite(m.Calibration.A) || !double.IsFinite(m.Calibration.B)) Fail("calibration a and b must be finite numbers");
        if (!(m.Decision.Threshold > 0 && m.Decision.Threshold < 1)) Fail($"decision.threshold {m.Decision.Threshold} must be in (0, 1)");
        if (!(m.Decision.UncertainBand >= 0 && m.Decision.UncertainBand < 0.5)) Fail($"decision.uncertainBand {m.Decision.UncertainBand} must be in [0, 0.5)");
        foreach (var x in m.Experts.Where(x => x.Int8 is not null))
        {
            if (!Enum.IsDefined(x.Int8!.Weights)) Fail($"expert '{x.Name}': int8.weights {x.Int8.Weights} is not a known weight format");
            var missing = ModelNames.LcnnConvs.Where(c => x.Int8.Ranges is null || !x.Int8.Ranges.ContainsKey(c)).ToList();
            if (missing.Count > 0) Fail($"expert '{x.Name}': int8.ranges lacks conv {string.Join(", ", missing)}");
            foreach (var (conv, range) in x.Int8.Ranges!)
                if (!range.IsValid) Fail($"expert '{x.Name}': int8.ranges of conv {conv} must be finite with min <= max");
        }
    }

    private static void VerifyOnnx(string dir, string file, string sha256, (string Name, long[] Shape)[] inputs, (string Name, long[] Shape)[] outputs)
    {
        if (string.IsNullOrWhiteSpace(file) || Path.IsPathRooted(file) || file.Split('/', '\\').Contains(".."))
            throw new BundleException($"{Path.Combine(dir, ManifestFile)}: file '{file}' must be a plain path inside the bundle folder");
        var path = Path.Combine(dir, file);
        [DoesNotReturn] void Fail(string problem) => throw new BundleException($"{path}: {problem}");

        if (!File.Exists(path)) Fail("file listed in moe.json is missing");
        var bytes = File.ReadAllBytes(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase)) Fail($"SHA-256 mismatch: moe.json says {sha256}, file has {actual}");

        GraphProto graph;
        try { graph = ModelProto.Parser.ParseFrom(bytes).Graph ?? throw new InvalidDataException("no graph"); }
        catch (Exception ex) when (ex is Google.Protobuf.InvalidProtocolBufferException or InvalidDataException) { Fail($"not an ONNX model: {ex.Message}"); throw; }

        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
        CheckValues("input", graph.Input.Where(v => !initializers.Contains(v.Name)).ToList(), inputs, Fail);
        CheckValues("output", graph.Output.ToList(), outputs, Fail);
    }

    private static void CheckValues(string kind, List<ValueInfoProto> actual, (string Name, long[] Shape)[] expected, Action<string> fail)
    {
        foreach (var (name, shape) in expected)
        {
            var v = actual.FirstOrDefault(a => a.Name == name);
            if (v is null) { fail($"{kind} '{name}' not found (has {string.Join(", ", actual.Select(a => a.Name))})"); return; }
            var tensor = v.Type?.TensorType;
            if (tensor is null || tensor.ElemType != (int)TensorProto.Types.DataType.Float) fail($"{kind} '{name}' must be a float tensor");
            var dims = tensor!.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray() ?? [];
            var ok = dims.Length == shape.Length && dims.Zip(shape).All(p => p.Second == -1 || p.First == p.Second);
            if (!ok) fail($"{kind} '{name}' has shape [{Format(dims)}], expected [{Format(shape)}]");
        }
        if (actual.Count != expected.Length && kind == "input")
            fail($"graph has {actual.Count} inputs, expected {expected.Length} ({string.Join(", ", expected.Select(e => e.Name))})");
    }

    private static string Format(long[] dims) => string.Join(",", dims.Select(d => d < 0 ? "N" : d.ToString()));
}

public sealed class BundleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The manifest's JSON form: camelCase names, camelCase enum strings (reading accepts any case), indented.</summary>
public static class BundleJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        AllowTrailingCommas = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };
}

/// <summary>Writes a bundle folder: the ONNX files, then moe.json with every listed file's SHA-256 computed from disk.</summary>
public static class BundleWriter
{
    /// <param name="files">File name (relative to the folder) -> ONNX bytes; files already in the folder may be left out.</param>
    /// <returns>The manifest as written, with hashes filled in.</returns>
    public static BundleManifest Write(string directory, BundleManifest manifest, IReadOnlyDictionary<string, byte[]> files)
    {
        System.IO.Directory.CreateDirectory(directory);
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(directory, name), bytes);
        return WriteManifest(directory, manifest);
    }

    /// <summary>Rewrites moe.json for files already in the folder (e.g. after adding an expert and retraining the gate).</summary>
    public static BundleManifest WriteManifest(string directory, BundleManifest manifest)
    {
        string Hash(string file)
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path)) throw new BundleException($"{path}: listed in the manifest but not written");
            using var s = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(s));
        }

        var gates = manifest.Gates;
        var hashed = manifest with
        {
            Experts = manifest.Experts.Select(x => x with { Sha256 = Hash(x.File) }).ToList(),
            Gates = new GateFiles
            {
                Classic = gates.Classic is { } c ? c with { Sha256 = Hash(c.File) } : null,
                Enhanced = gates.Enhanced is { } en ? en with { Sha256 = Hash(en.File) } : null,
            },
        };
        File.WriteAllText(Path.Combine(directory, ModelBundle.ManifestFile), JsonSerializer.Serialize(hashed, BundleJson.Options) + "\n");
        return hashed;
    }
}
