using System.Text.Json.Nodes;

namespace MoeFunctions.Infra.Tests.Support;

/// <summary>local.settings.sample.json: the setting keys the app reads, with their local values.</summary>
public static class SampleSettings
{
    public static IReadOnlyDictionary<string, string> Values { get; } = Load();

    /// <summary>Keys that hold a storage connection: in Azure they become identity-based prefix__ settings.</summary>
    public static readonly string[] StorageConnections = ["AzureWebJobsStorage", "MoeStorage"];

    /// <summary>Connection strings for local emulators only; Azure uses the managed identity, so the Bicep must not set them.</summary>
    public static readonly string[] DevOnlyConnectionStrings = ["Moe__ServiceBus__ConnectionString"];

    public static readonly string[] IdentityConnectionSuffixes =
        ["__blobServiceUri", "__queueServiceUri", "__tableServiceUri", "__credential", "__clientId"];

    static IReadOnlyDictionary<string, string> Load()
    {
        var json = JsonNode.Parse(File.ReadAllText(Repo.PathOf("local.settings.sample.json")))!;
        return json["Values"]!.AsObject().ToDictionary(kv => kv.Key, kv => (string?)kv.Value ?? "");
    }
}
