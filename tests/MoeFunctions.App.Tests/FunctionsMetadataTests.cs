using System.Text.Json;
using MoeFunctions.App.Tests.Support;
using MoeFunctions.TestSupport;

namespace MoeFunctions.App.Tests;

/// <summary>The built functions.metadata is what the Functions host and the infra see: check it against the shared settings.</summary>
public sealed class FunctionsMetadataTests
{
    private static JsonElement[] Functions()
    {
        // The SDK writes functions.metadata next to MoeFunctions.App.dll; the test output holds a copy of that build.
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "functions.metadata"),
            .. Directory.GetFiles(Path.Combine(Repository.Root, "src", "MoeFunctions.App", "bin"), "functions.metadata", SearchOption.AllDirectories)
                .OrderByDescending(File.GetLastWriteTimeUtc),
        ];
        string path = candidates.First(File.Exists);
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.EnumerateArray().ToArray();
    }

    private static string Resolve(string expression, Dictionary<string, string> settings) =>
        System.Text.RegularExpressions.Regex.Replace(expression, "%([^%]+)%", m =>
            settings.TryGetValue(m.Groups[1].Value.Replace(":", "__"), out var v) ? v : throw new KeyNotFoundException($"{m.Value} has no setting in local.settings.sample.json"));

    [Fact]
    public void Every_function_trigger_resolves_to_the_resources_the_settings_name()
    {
        var settings = AppTestHost.SampleSettings();
        var byName = Functions().ToDictionary(f => f.GetProperty("name").GetString()!);
        Assert.Equal(["IngestMedia", "IngestMediaEventGrid", "ScoreClips", "ScoreClipsPoison"], byName.Keys.Order());

        JsonElement Trigger(string name) => Assert.Single(byName[name].GetProperty("bindings").EnumerateArray());

        var ingest = Trigger("IngestMedia");
        Assert.Equal("blobTrigger", ingest.GetProperty("type").GetString());
        Assert.Equal("uploads/{name}", Resolve(ingest.GetProperty("path").GetString()!, settings));
        Assert.False(ingest.TryGetProperty("source", out _)); // polling: Azurite and local runs

        var eventGrid = Trigger("IngestMediaEventGrid");
        Assert.Equal("blobTrigger", eventGrid.GetProperty("type").GetString());
        Assert.Equal("EventGrid", eventGrid.GetProperty("source").GetString());
        Assert.Equal(settings["Moe__UploadsContainer"] + "/{name}", Resolve(eventGrid.GetProperty("path").GetString()!, settings));

        var score = Trigger("ScoreClips");
        Assert.Equal("queueTrigger", score.GetProperty("type").GetString());
        Assert.Equal("clips-to-score", Resolve(score.GetProperty("queueName").GetString()!, settings));

        var poison = Trigger("ScoreClipsPoison");
        Assert.Equal("queueTrigger", poison.GetProperty("type").GetString());
        // The host moves a message to "<queue>-poison" after maxDequeueCount.
        Assert.Equal(settings["Moe__ClipsQueue"] + "-poison", Resolve(poison.GetProperty("queueName").GetString()!, settings));

        foreach (var (name, f) in byName)
        {
            var t = Trigger(name);
            Assert.Equal("MoeStorage", t.GetProperty("connection").GetString());
            Assert.Equal("In", t.GetProperty("direction").GetString());
            Assert.True(settings.ContainsKey($"AzureWebJobs.{name}.Disabled"), $"local.settings.sample.json lacks AzureWebJobs.{name}.Disabled");
        }
        Assert.True(settings.ContainsKey("MoeStorage"));
        // Exactly one of the two ingest triggers runs in any deployment.
        Assert.NotEqual(settings["AzureWebJobs.IngestMedia.Disabled"], settings["AzureWebJobs.IngestMediaEventGrid.Disabled"]);
        // No setting names a function that does not exist.
        foreach (var key in settings.Keys.Where(k => k.StartsWith("AzureWebJobs.") && k.EndsWith(".Disabled")))
            Assert.Contains(key["AzureWebJobs.".Length..^".Disabled".Length], byName.Keys);
    }

    [Fact]
    public void Host_json_sets_the_queue_and_concurrency_limits_the_workflow_relies_on()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "host.json")));
        var root = doc.RootElement;
        Assert.Equal("2.0", root.GetProperty("version").GetString());
        Assert.False(root.GetProperty("concurrency").GetProperty("dynamicConcurrencyEnabled").GetBoolean());
        var queues = root.GetProperty("extensions").GetProperty("queues");
        Assert.InRange(queues.GetProperty("maxDequeueCount").GetInt32(), 2, 10);
        Assert.Equal("base64", queues.GetProperty("messageEncoding").GetString());
        Assert.True(TimeSpan.Parse(root.GetProperty("functionTimeout").GetString()!) > TimeSpan.FromMinutes(1));
        // The copy in the app's build output is the one the host reads.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "host.json")));
    }
}
