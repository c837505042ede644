using System.Text.Json.Nodes;
using MoeFunctions.Infra.Tests.Support;

namespace MoeFunctions.Infra.Tests;

/// <summary>What main.bicep deploys, read from `bicep snapshot` for the parameter sets users deploy.</summary>
[Collection(DeploymentsCollection.Name)]
public class ResourceTests(Deployments deployments)
{
    static string Setting(string key) => SampleSettings.Values[key];

    static JsonNode Props(JsonObject resource) => resource["properties"]!;

    static string LastSegment(JsonObject resource) => ((string)resource["name"]!).Split('/')[^1];

    [Fact]
    public void Storage_account_refuses_shared_keys_and_public_blobs()
    {
        var account = deployments.FlexFirstPhase.Single("Microsoft.Storage/storageAccounts");
        Assert.False((bool)Props(account)["allowSharedKeyAccess"]!);
        Assert.False((bool)Props(account)["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)Props(account)["minimumTlsVersion"]);
    }

    [Fact]
    public void Containers_queues_and_table_carry_the_names_the_app_reads()
    {
        var s = deployments.FlexFirstPhase;
        var containers = s.OfType("Microsoft.Storage/storageAccounts/blobServices/containers").Select(LastSegment).ToHashSet();
        Assert.Superset(new HashSet<string> { Setting("Moe__UploadsContainer"), Setting("Moe__ClipsContainer"), Setting("Moe__ResultsContainer") }, containers);

        var queues = s.OfType("Microsoft.Storage/storageAccounts/queueServices/queues").Select(LastSegment).Order().ToList();
        Assert.Equal(new[] { Setting("Moe__ClipsQueue"), Setting("Moe__ClipsQueue") + "-poison", Setting("Moe__NotificationQueue") }.Order(), queues);

        var table = s.Single("Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Equal(Setting("Moe__ScansTable"), LastSegment(table));
    }

    [Fact]
    public void Lifecycle_rule_deletes_clip_batches_after_a_day()
    {
        var policy = deployments.FlexFirstPhase.Single("Microsoft.Storage/storageAccounts/managementPolicies");
        var rule = Assert.Single(Props(policy)["policy"]!["rules"]!.AsArray())!;
        var prefixes = rule["definition"]!["filters"]!["prefixMatch"]!.AsArray().Select(p => (string)p!).ToList();
        Assert.Equal([Setting("Moe__ClipsContainer") + "/"], prefixes);
        Assert.Equal(1, (int)rule["definition"]!["actions"]!["baseBlob"]!["delete"]!["daysAfterModificationGreaterThan"]!);
    }

    [Fact]
    public void Service_bus_queue_detects_duplicates_and_dead_letters_expired_messages()
    {
        var s = deployments.FlexFirstPhase;
        Assert.True((bool)Props(s.Single("Microsoft.ServiceBus/namespaces"))["disableLocalAuth"]!);
        var queue = s.Single("Microsoft.ServiceBus/namespaces/queues");
        Assert.Equal(Setting("Moe__ServiceBus__QueueName"), LastSegment(queue));
        Assert.True((bool)Props(queue)["requiresDuplicateDetection"]!);
        Assert.True((bool)Props(queue)["deadLetteringOnMessageExpiration"]!);
    }

    static readonly Dictionary<string, string> AppRoles = new()
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "/Microsoft.Storage/storageAccounts/",   // Storage Blob Data Owner
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "/Microsoft.Storage/storageAccounts/",   // Storage Queue Data Contributor
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "/Microsoft.Storage/storageAccounts/",   // Storage Table Data Contributor
        ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = "/queues/scan-results/",                 // Azure Service Bus Data Sender
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "/Microsoft.ContainerRegistry/registries/", // AcrPull
    };

    static string RoleId(JsonObject assignment) => ((string)Props(assignment)["roleDefinitionId"]!).Split('/')[^1];

    [Fact]
    public void The_identity_gets_exactly_the_least_privilege_roles_on_narrow_scopes()
    {
        var assignments = deployments.FlexFirstPhase.OfType("Microsoft.Authorization/roleAssignments");
        Assert.Equal(AppRoles.Keys.Order(), assignments.Select(RoleId).Order());
        foreach (var a in assignments)
        {
            Assert.Equal("ServicePrincipal", (string?)Props(a)["principalType"]);
            Assert.Contains(AppRoles[RoleId(a)], (string)a["id"]!);
        }
    }

    [Fact]
    public void Role_assignment_names_are_deterministic_and_unique()
    {
        var first = deployments.FlexFirstPhase.OfType("Microsoft.Authorization/roleAssignments").Select(a => (string)a["name"]!).ToList();
        var second = deployments.FlexSecondPhase.OfType("Microsoft.Authorization/roleAssignments").Select(a => (string)a["name"]!).ToList();
        Assert.All(first, n => Assert.True(Guid.TryParse(n, out _), $"{n} is not a guid"));
        Assert.Equal(first.Count, first.Distinct().Count());
        // A redeployment (other parameters, other deployment) names the same assignments the same way.
        Assert.Superset(first.ToHashSet(), second.ToHashSet());
    }

    [Fact]
    public void The_deploying_user_gets_blob_data_rights_only_when_named()
    {
        var deployer = deployments.FlexSecondPhase.OfType("Microsoft.Authorization/roleAssignments")
            .Where(a => (string?)Props(a)["principalId"] == Deployments.DeployerObjectId).ToList();
        var only = Assert.Single(deployer);
        Assert.Equal("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", RoleId(only));
        Assert.Equal("User", (string?)Props(only)["principalType"]);
        Assert.DoesNotContain(deployments.FlexFirstPhase.OfType("Microsoft.Authorization/roleAssignments"),
            a => (string?)Props(a)["principalType"] == "User");
    }

    [Fact]
    public void Ingest_runs_on_flex_consumption_with_dotnet_isolated_10()
    {
        var s = deployments.FlexFirstPhase;
        var plan = s.Single("Microsoft.Web/serverfarms");
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        var app = s.TaggedService("ingest")!;
        Assert.Equal("Microsoft.Web/sites", (string?)app["type"]);
        Assert.Equal("functionapp,linux", (string?)app["kind"]);
        var config = Props(app)["functionAppConfig"]!;
        Assert.Equal("dotnet-isolated", (string?)config["runtime"]!["name"]);
        Assert.Equal("10.0", (string?)config["runtime"]!["version"]);
        Assert.Equal("UserAssignedIdentity", (string?)config["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.Equal("UserAssigned", (string?)app["identity"]!["type"]);
    }

    [Fact]
    public void Scoring_app_is_a_function_app_on_the_default_t4_gpu_profile_scaled_by_the_clip_queue()
    {
        var s = deployments.FlexFirstPhase;
        var score = s.TaggedService("score")!;
        Assert.Equal("Microsoft.App/containerApps", (string?)score["type"]);
        Assert.Equal("functionapp", (string?)score["kind"]);
        Assert.Equal("Consumption-GPU-NC8as-T4", GpuProfileTypeOf(s, score));

        var scale = Props(score)["template"]!["scale"]!;
        Assert.Equal(0, (int)scale["minReplicas"]!);
        var rule = Assert.Single(scale["rules"]!.AsArray())!;
        Assert.Equal(Setting("Moe__ClipsQueue"), (string?)rule["azureQueue"]!["queueName"]);
        Assert.NotNull(rule["azureQueue"]!["identity"]);

        var registry = Assert.Single(Props(score)["configuration"]!["registries"]!.AsArray())!;
        Assert.NotNull(registry["identity"]);
        Assert.Null(registry["passwordSecretRef"]);
    }

    [Fact]
    public void Gpu_profile_and_replica_bounds_follow_the_parameters()
    {
        var s = deployments.ContainerIngestOnA100;
        var score = s.TaggedService("score")!;
        Assert.Equal("Consumption-GPU-NC24-A100", GpuProfileTypeOf(s, score));
        var scale = Props(score)["template"]!["scale"]!;
        Assert.Equal(1, (int)scale["minReplicas"]!);
        Assert.Equal(7, (int)scale["maxReplicas"]!);
        var container = Assert.Single(Props(score)["template"]!["containers"]!.AsArray())!;
        Assert.Equal("example.azurecr.io/moe-score:1", (string?)container["image"]);
    }

    [Fact]
    public void A_gpu_profile_outside_the_allowed_list_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Bicep.SnapshotOfMain(new Dictionary<string, string>
        {
            ["environmentName"] = "'moetest'",
            ["location"] = "'westeurope'",
            ["gpuWorkloadProfileType"] = "'Consumption-GPU-NC96-H100'",
        }));
        Assert.Contains("BCP033", error.Message);
        Assert.Contains("Consumption-GPU-NC8as-T4", error.Message);
    }

    static string GpuProfileTypeOf(Snapshot s, JsonObject app)
    {
        var profileName = (string)Props(app)["workloadProfileName"]!;
        var environment = s.Single("Microsoft.App/managedEnvironments");
        var profile = Props(environment)["workloadProfiles"]!.AsArray().Single(p => (string?)p!["name"] == profileName)!;
        return (string)profile["workloadProfileType"]!;
    }

    [Fact]
    public void First_phase_creates_the_event_grid_topic_but_no_subscription()
    {
        var s = deployments.FlexFirstPhase;
        s.Single("Microsoft.EventGrid/systemTopics");
        Assert.Empty(s.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
    }

    [Fact]
    public void Second_phase_sends_uploads_blob_created_events_to_the_blob_extension_webhook()
    {
        var subscription = deployments.FlexSecondPhase.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions");
        var destination = Props(subscription)["destination"]!;
        Assert.Equal("WebHook", (string?)destination["endpointType"]);
        var url = (string)destination["properties"]!["endpointUrl"]!;
        Assert.Contains("/runtime/webhooks/blobs?functionName=Host.Functions.{1}&code={2}", url);
        Assert.Contains($"'{Deployments.NamesJson["functions"]!["ingestEventGrid"]}'", url);
        Assert.Contains("/host/default', '2024-11-01').systemKeys.blobs_extension", url);

        var filter = Props(subscription)["filter"]!;
        Assert.Equal(["Microsoft.Storage.BlobCreated"], filter["includedEventTypes"]!.AsArray().Select(t => (string)t!));
        Assert.Equal($"/blobServices/default/containers/{Setting("Moe__UploadsContainer")}/", (string?)filter["subjectBeginsWith"]);
    }

    [Fact]
    public void Container_ingest_uses_the_polling_trigger_and_no_flex_plan_or_subscription()
    {
        var s = deployments.ContainerIngestOnA100;
        Assert.Empty(s.OfType("Microsoft.Web/sites"));
        Assert.Empty(s.OfType("Microsoft.Web/serverfarms"));
        Assert.Empty(s.OfType("Microsoft.EventGrid/systemTopics/eventSubscriptions"));
        var ingest = s.TaggedService("ingest")!;
        Assert.Equal("Microsoft.App/containerApps", (string?)ingest["type"]);
        Assert.Equal("Consumption", (string?)Props(ingest)["workloadProfileName"]);
        Assert.True((int)Props(ingest)["template"]!["scale"]!["minReplicas"]! >= 1, "the polling trigger needs a running host");
    }
}
