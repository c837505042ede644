using System.Text.Json.Nodes;
using MoeFunctions.Infra.Tests.Support;

namespace MoeFunctions.Infra.Tests;

/// <summary>
/// The app reads the keys of local.settings.sample.json; the Bicep must set every one of them on each app,
/// with names (containers, queues, table) from infra/names.json equal to the sample's values.
/// </summary>
[Collection(DeploymentsCollection.Name)]
public class SettingsContractTests(Deployments deployments)
{
    static JsonObject NamesSettings => Deployments.NamesJson["settings"]!.AsObject();
    static JsonObject FunctionNames => Deployments.NamesJson["functions"]!.AsObject();

    public static TheoryData<string> Apps() => new() { "flex ingest", "flex score", "container ingest", "container score" };

    JsonObject App(string which) => which switch
    {
        "flex ingest" => deployments.FlexSecondPhase.TaggedService("ingest")!,
        "flex score" => deployments.FlexSecondPhase.TaggedService("score")!,
        "container ingest" => deployments.ContainerIngestOnA100.TaggedService("ingest")!,
        "container score" => deployments.ContainerIngestOnA100.TaggedService("score")!,
        _ => throw new ArgumentOutOfRangeException(nameof(which)),
    };

    [Fact]
    public void Names_json_values_equal_the_sample_settings()
    {
        Assert.NotEmpty(NamesSettings);
        foreach (var (key, value) in NamesSettings)
        {
            Assert.True(SampleSettings.Values.ContainsKey(key), $"names.json sets {key}, which the app does not read");
            Assert.Equal(SampleSettings.Values[key], (string)value!);
        }
    }

    [Fact]
    public void Every_resource_name_setting_of_the_sample_is_in_names_json()
    {
        string[] nameKeys = ["Moe__UploadsContainer", "Moe__ClipsContainer", "Moe__ResultsContainer", "Moe__ClipsQueue",
                             "Moe__ScansTable", "Moe__NotificationQueue", "Moe__ServiceBus__QueueName"];
        foreach (var key in nameKeys)
        {
            Assert.True(SampleSettings.Values.ContainsKey(key), $"sample lacks {key}");
            Assert.True(NamesSettings.ContainsKey(key), $"names.json lacks {key}");
        }
    }

    [Fact]
    public void Function_names_match_the_disable_switches_of_the_sample()
    {
        var sampleFunctions = SampleSettings.Values.Keys
            .Where(k => k.StartsWith("AzureWebJobs.", StringComparison.Ordinal) && k.EndsWith(".Disabled", StringComparison.Ordinal))
            .Select(k => k["AzureWebJobs.".Length..^".Disabled".Length])
            .Order().ToList();
        var namesFunctions = FunctionNames.Select(f => (string)f.Value!).Order().ToList();
        Assert.Equal(sampleFunctions, namesFunctions);
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void Every_sample_key_is_set_on_the_app(string which)
    {
        var app = App(which);
        var settings = AppSettings.Of(app);
        var isFlex = (string)app["type"]! == "Microsoft.Web/sites";

        foreach (var (key, sampleValue) in SampleSettings.Values)
        {
            if (SampleSettings.StorageConnections.Contains(key))
            {
                // Identity-based connection: no connection string, the service URIs and the managed identity.
                Assert.False(settings.ContainsKey(key), $"{which}: {key} must not be a connection string in Azure");
                foreach (var suffix in SampleSettings.IdentityConnectionSuffixes)
                    Assert.True(settings.ContainsKey(key + suffix), $"{which}: missing {key}{suffix}");
                Assert.Equal("managedidentity", settings[key + "__credential"]);
                // The snapshot keeps the cloud's storage suffix as environment().suffixes.storage.
                Assert.Matches(@"https://.*\.blob\.", settings[key + "__blobServiceUri"]);
                Assert.Matches(@"https://.*\.queue\.", settings[key + "__queueServiceUri"]);
                Assert.Matches(@"https://.*\.table\.", settings[key + "__tableServiceUri"]);
            }
            else if (SampleSettings.DevOnlyConnectionStrings.Contains(key))
            {
                Assert.False(settings.ContainsKey(key), $"{which}: {key} is for local emulators; Azure uses the managed identity");
            }
            else if (key == "FUNCTIONS_WORKER_RUNTIME" && isFlex)
            {
                // Flex Consumption takes the runtime from functionAppConfig and refuses this setting.
                Assert.False(settings.ContainsKey(key));
                Assert.Equal(sampleValue, (string?)app["properties"]!["functionAppConfig"]!["runtime"]!["name"]);
            }
            else
            {
                Assert.True(settings.ContainsKey(key), $"{which}: app setting {key} is missing");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void The_app_sets_no_moe_key_the_app_does_not_read(string which)
    {
        foreach (var key in AppSettings.Of(App(which)).Keys)
        {
            if (key.StartsWith("Moe__", StringComparison.Ordinal) || key.StartsWith("AzureWebJobs.", StringComparison.Ordinal))
                Assert.True(SampleSettings.Values.ContainsKey(key), $"{which} sets {key}, unknown to local.settings.sample.json");
        }
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void Resource_names_in_settings_equal_the_sample(string which)
    {
        var settings = AppSettings.Of(App(which));
        foreach (var (key, value) in NamesSettings)
            Assert.Equal((string)value!, settings[key]);
        Assert.Equal("ServiceBus", settings["Moe__Notifier"]);
        // The Service Bus client authenticates with DefaultAzureCredential: it needs the user-assigned identity's id.
        Assert.Equal(settings["MoeStorage__clientId"], settings["AZURE_CLIENT_ID"]);
        Assert.False(string.IsNullOrWhiteSpace(settings["Moe__ServiceBus__FullyQualifiedNamespace"]));
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public void No_setting_carries_a_key_or_connection_secret(string which)
    {
        foreach (var (key, value) in AppSettings.Of(App(which)))
        {
            Assert.DoesNotContain("AccountKey=", value);
            Assert.DoesNotContain("SharedAccessKey", value);
            Assert.DoesNotContain("listKeys", value);
            Assert.DoesNotContain("UseDevelopmentStorage", value);
        }
    }

    static string Disabled(string function) => $"AzureWebJobs.{FunctionNames[function]}.Disabled";

    [Fact]
    public void Flex_ingest_runs_only_the_event_grid_ingest_function()
    {
        var s = AppSettings.Of(deployments.FlexFirstPhase.TaggedService("ingest")!);
        Assert.Equal("Ingest", s["Moe__Role"]);
        Assert.Equal("cpu", s["Moe__Device"]);
        Assert.Equal("false", s[Disabled("ingestEventGrid")]);
        Assert.Equal("true", s[Disabled("ingestPolling")]);
        Assert.Equal("true", s[Disabled("score")]);
        Assert.Equal("true", s[Disabled("scorePoison")]);
    }

    [Fact]
    public void Container_ingest_runs_only_the_polling_ingest_function()
    {
        var s = AppSettings.Of(deployments.ContainerIngestOnA100.TaggedService("ingest")!);
        Assert.Equal("Ingest", s["Moe__Role"]);
        Assert.Equal("false", s[Disabled("ingestPolling")]);
        Assert.Equal("true", s[Disabled("ingestEventGrid")]);
        Assert.Equal("true", s[Disabled("score")]);
        Assert.Equal("true", s[Disabled("scorePoison")]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Score_runs_only_the_scoring_functions_on_cuda(bool flexVariant)
    {
        var snapshot = flexVariant ? deployments.FlexFirstPhase : deployments.ContainerIngestOnA100;
        var s = AppSettings.Of(snapshot.TaggedService("score")!);
        Assert.Equal("Score", s["Moe__Role"]);
        Assert.Equal("cuda", s["Moe__Device"]);
        Assert.Equal("false", s[Disabled("score")]);
        Assert.Equal("false", s[Disabled("scorePoison")]);
        Assert.Equal("true", s[Disabled("ingestPolling")]);
        Assert.Equal("true", s[Disabled("ingestEventGrid")]);
    }
}
