using System.Text.Json.Nodes;

namespace MoeFunctions.Infra.Tests.Support;

/// <summary>
/// main.bicep evaluated for the parameter sets a user deploys, each computed once per test run
/// (bicep takes seconds per call).
/// </summary>
public sealed class Deployments
{
    public const string DeployerObjectId = "11111111-2222-3333-4444-555555555555";

    readonly Lazy<Snapshot> flexFirstPhase = new(() => Bicep.SnapshotOfMain(new Dictionary<string, string>
    {
        ["environmentName"] = "'moetest'",
        ["location"] = "'westeurope'",
    }));

    readonly Lazy<Snapshot> flexSecondPhase = new(() => Bicep.SnapshotOfMain(new Dictionary<string, string>
    {
        ["environmentName"] = "'moetest'",
        ["location"] = "'westeurope'",
        ["principalId"] = $"'{DeployerObjectId}'",
        ["deployEventSubscription"] = "true",
    }));

    readonly Lazy<Snapshot> containerIngestOnA100 = new(() => Bicep.SnapshotOfMain(new Dictionary<string, string>
    {
        ["environmentName"] = "'moetest'",
        ["location"] = "'westeurope'",
        ["ingestHosting"] = "'containerapp'",
        ["deployEventSubscription"] = "true",
        ["gpuWorkloadProfileType"] = "'Consumption-GPU-NC24-A100'",
        ["scoreMinReplicas"] = "1",
        ["scoreMaxReplicas"] = "7",
        ["scoreImage"] = "'example.azurecr.io/moe-score:1'",
    }));

    /// <summary>First `azd up`/deployment: Flex ingest, no Event Grid subscription yet.</summary>
    public Snapshot FlexFirstPhase => flexFirstPhase.Value;

    /// <summary>Second phase: deployEventSubscription=true, with a deploying user.</summary>
    public Snapshot FlexSecondPhase => flexSecondPhase.Value;

    /// <summary>Ingest as a container (ffmpeg), scoring on A100, explicit replica bounds and image.</summary>
    public Snapshot ContainerIngestOnA100 => containerIngestOnA100.Value;

    public static JsonObject NamesJson { get; } =
        JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Infra, "names.json")))!.AsObject();
}

[CollectionDefinition(Name)]
public sealed class DeploymentsCollection : ICollectionFixture<Deployments>
{
    public const string Name = "main.bicep snapshots";
}

/// <summary>App settings of a Function App resource, whichever way it is hosted.</summary>
public static class AppSettings
{
    public static IReadOnlyDictionary<string, string> Of(JsonObject app)
    {
        var type = (string)app["type"]!;
        JsonArray list = type switch
        {
            "Microsoft.Web/sites" => app["properties"]!["siteConfig"]!["appSettings"]!.AsArray(),
            "Microsoft.App/containerApps" => Assert.Single(app["properties"]!["template"]!["containers"]!.AsArray())!["env"]!.AsArray(),
            _ => throw new ArgumentException($"not a function app: {type}"),
        };
        var settings = new Dictionary<string, string>();
        foreach (var item in list)
        {
            var name = (string)item!["name"]!;
            Assert.True(settings.TryAdd(name, (string?)item["value"] ?? ""), $"setting {name} appears twice");
        }
        return settings;
    }
}
