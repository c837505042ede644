using System.Text.Json.Nodes;
using MoeFunctions.Detection;

namespace MoeFunctions.Detection.Tests;

public class ModelBundleTests
{
    private static readonly byte[] Gate2 = TestBundles.ClassicGate([0f, 1f]);

    private static string WriteValid(TempDir dir, Func<BundleManifest, BundleManifest>? edit = null)
    {
        TestBundles.Write(dir.Path, [0.8, 0.3], Gate2, TestBundles.EnhancedGate([0f, 0f]), edit);
        return dir.Path;
    }

    private static BundleException LoadFails(string dir) => Assert.Throws<BundleException>(() => ModelBundle.Load(dir));

    private static void EditJson(TempDir dir, Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(File.ReadAllText(dir.File("moe.json")))!.AsObject();
        edit(node);
        File.WriteAllText(dir.File("moe.json"), node.ToJsonString());
    }

    [Fact]
    public void A_written_bundle_loads_with_its_manifest_and_hash()
    {
        using var dir = new TempDir();
        var written = TestBundles.Write(dir.Path, [0.8, 0.3], Gate2);
        var bundle = ModelBundle.Load(dir.Path);
        Assert.Equal(["e1", "e2"], bundle.Manifest.Experts.Select(e => e.Name));
        Assert.Equal(written.Experts[1].Sha256, bundle.Manifest.Experts[1].Sha256);
        Assert.Matches("^[0-9a-f]{64}$", bundle.Sha256);
        Assert.Equal(RoutingMode.Sparse, bundle.Manifest.Routing.Mode);
        // enums and names are camelCase in the file
        var json = File.ReadAllText(dir.File("moe.json"));
        Assert.Contains("\"mode\": \"sparse\"", json);
        Assert.Contains("\"windowSamples\": 48000", json);
    }

    [Fact]
    public void Hash_mismatch_names_the_file()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        var bytes = File.ReadAllBytes(dir.File("expert2.onnx"));
        bytes[^1] ^= 0x5a;
        File.WriteAllBytes(dir.File("expert2.onnx"), bytes);
        var e = LoadFails(dir.Path);
        Assert.Contains("expert2.onnx", e.Message);
        Assert.Contains("SHA-256 mismatch", e.Message);
    }

    [Fact]
    public void Missing_file_names_the_file()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        File.Delete(dir.File("gate-enhanced.onnx"));
        var e = LoadFails(dir.Path);
        Assert.Contains("gate-enhanced.onnx", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Missing_manifest_is_reported()
    {
        using var dir = new TempDir();
        Assert.Contains("moe.json", LoadFails(dir.Path).Message);
    }

    [Fact]
    public void Wrong_input_shape_names_the_file_and_the_shapes()
    {
        using var dir = new TempDir();
        // an enhanced gate built for 3 experts in a 2-expert bundle: input [N,3,64] where [N,2,64] is expected
        TestBundles.Write(dir.Path, [0.8, 0.3], Gate2, TestBundles.EnhancedGate([0f, 0f, 0f]));
        var e = LoadFails(dir.Path);
        Assert.Contains("gate-enhanced.onnx", e.Message);
        Assert.Contains("[N,3,64]", e.Message);
        Assert.Contains("[N,2,64]", e.Message);
    }

    [Fact]
    public void Gate_with_the_wrong_expert_count_names_the_file()
    {
        using var dir = new TempDir();
        TestBundles.Write(dir.Path, [0.8, 0.3], TestBundles.ClassicGate([0f, 1f, 2f]));
        var e = LoadFails(dir.Path);
        Assert.Contains("gate.onnx", e.Message);
        Assert.Contains("'weights'", e.Message);
    }

    [Fact]
    public void A_gate_listed_as_an_expert_is_refused()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        File.Copy(dir.File("gate.onnx"), dir.File("expert1.onnx"), overwrite: true);
        BundleWriter.WriteManifest(dir.Path, ModelBundleJson(dir)); // rehash so only the graph check can catch it
        var e = LoadFails(dir.Path);
        Assert.Contains("expert1.onnx", e.Message);
        Assert.Contains("'logmel' not found", e.Message);
    }

    [Fact]
    public void Not_an_onnx_file_is_refused()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        File.WriteAllText(dir.File("expert1.onnx"), "this is not a model");
        BundleWriter.WriteManifest(dir.Path, ModelBundleJson(dir));
        var e = LoadFails(dir.Path);
        Assert.Contains("expert1.onnx", e.Message);
    }

    [Fact]
    public void Bad_json_names_the_manifest()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        File.WriteAllText(dir.File("moe.json"), "{ \"name\": \"x\", ");
        var e = LoadFails(dir.Path);
        Assert.Contains("moe.json", e.Message);
        Assert.Contains("invalid manifest", e.Message);
    }

    [Fact]
    public void Missing_required_field_is_refused()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        EditJson(dir, j => j.Remove("experts"));
        Assert.Contains("moe.json", LoadFails(dir.Path).Message);
    }

    [Fact]
    public void Duplicate_expert_names_are_refused()
    {
        using var dir = new TempDir();
        WriteValid(dir, m => m with { Experts = m.Experts.Select(x => x with { Name = "same" }).ToList() });
        var e = LoadFails(dir.Path);
        Assert.Contains("moe.json", e.Message);
        Assert.Contains("'same'", e.Message);
    }

    [Theory]
    [InlineData("schema", "moe.bundle/99", "schema")]
    [InlineData("windowSamples", "32000", "windowSamples")]
    [InlineData("sampleRate", "8000", "sampleRate")]
    public void Unsupported_schema_window_or_rate_is_refused(string field, string value, string expected)
    {
        using var dir = new TempDir();
        WriteValid(dir);
        EditJson(dir, j => j[field] = JsonNode.Parse(value.StartsWith("moe") ? $"\"{value}\"" : value));
        var e = LoadFails(dir.Path);
        Assert.Contains("moe.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_different_front_end_is_refused()
    {
        using var dir = new TempDir();
        WriteValid(dir, m => m with { FrontEnd = new FrontEndSpec { NMels = 64 } });
        var e = LoadFails(dir.Path);
        Assert.Contains("frontEnd", e.Message);
    }

    [Fact]
    public void Paths_outside_the_folder_are_refused()
    {
        using var dir = new TempDir();
        WriteValid(dir);
        EditJson(dir, j => j["experts"]![0]!["file"] = "../expert1.onnx");
        var e = LoadFails(dir.Path);
        Assert.Contains("../expert1.onnx", e.Message);
    }

    [Fact]
    public void Routing_that_the_bundle_cannot_serve_is_refused()
    {
        using var dir = new TempDir();
        TestBundles.Write(dir.Path, [0.8, 0.3], Gate2, edit: m => m with { Routing = new RoutingDefaults { Gate = GateKind.Enhanced } });
        Assert.Contains("enhanced", LoadFails(dir.Path).Message);

        using var dir2 = new TempDir();
        TestBundles.Write(dir2.Path, [0.8, 0.3], Gate2, edit: m => m with { Routing = new RoutingDefaults { TopK = 3 } });
        Assert.Contains("topK", LoadFails(dir2.Path).Message);
    }

    private static BundleManifest ModelBundleJson(TempDir dir) =>
        System.Text.Json.JsonSerializer.Deserialize<BundleManifest>(File.ReadAllText(dir.File("moe.json")), BundleJson.Options)!;
}
