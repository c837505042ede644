using Azure.Core;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MoeFunctions.App.Tests.Support;
using MoeFunctions.Scanning.Cloud;

namespace MoeFunctions.App.Tests;

/// <summary>The worker host is built (not started) from the sample settings: DI resolves, and bad settings fail with their names.</summary>
public sealed class HostBuildTests
{
    private static void Validate(IServiceProvider services) => services.GetRequiredService<IStartupValidator>().Validate();

    [Fact]
    public void Sample_settings_build_a_host_whose_functions_and_stages_resolve()
    {
        using var host = AppTestHost.Build(AppTestHost.SampleSettings());
        Validate(host.Services);
        var options = host.Services.GetRequiredService<MoeCloudOptions>();
        Assert.Equal("uploads", options.UploadsContainer);
        Assert.Equal("clips-to-score", options.ClipsQueue);
        Assert.Equal(64, options.BatchWindows);
        Assert.Null(options.Mode);  // "" in the sample means the bundle's default
        Assert.Null(options.TopK);

        // Function classes are created per invocation by the host, through DI, as here.
        Assert.NotNull(ActivatorUtilities.CreateInstance<IngestMedia>(host.Services));
        Assert.NotNull(ActivatorUtilities.CreateInstance<IngestMediaEventGrid>(host.Services));
        Assert.NotNull(ActivatorUtilities.CreateInstance<ScoreClipsPoison>(host.Services));
        Assert.IsType<StorageQueueNotificationSink>(host.Services.GetRequiredService<INotificationSink>());
        var storage = host.Services.GetRequiredService<CloudStorage>();
        Assert.Equal("results", storage.Results.Name);
        Assert.Equal("scans", storage.Scans.Table.Name);
    }

    [Fact]
    public void Service_bus_notifier_is_chosen_by_setting_and_uses_the_namespace_with_an_identity()
    {
        var settings = AppTestHost.SampleSettings();
        settings["Moe__Notifier"] = "ServiceBus";
        settings["Moe__ServiceBus__FullyQualifiedNamespace"] = "moe-test.servicebus.windows.net";
        using var host = AppTestHost.Build(settings);
        Validate(host.Services);
        Assert.IsType<ServiceBusNotificationSink>(host.Services.GetRequiredService<INotificationSink>());
        var sender = host.Services.GetRequiredService<ServiceBusSender>();
        Assert.Equal("moe-test.servicebus.windows.net", sender.FullyQualifiedNamespace);
        Assert.Equal("scan-results", sender.EntityPath);
    }

    [Fact]
    public void Azure_monitor_exporter_is_added_when_its_connection_string_is_set()
    {
        var settings = AppTestHost.SampleSettings();
        settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/";
        using var host = AppTestHost.Build(settings);
        Assert.NotNull(host.Services.GetRequiredService<OpenTelemetry.Trace.TracerProvider>());
        using var plain = AppTestHost.Build(AppTestHost.SampleSettings());
        Assert.NotNull(plain.Services.GetRequiredService<OpenTelemetry.Trace.TracerProvider>());

        static bool ExporterConfigured(IServiceProvider sp) =>
            sp.GetServices<IConfigureOptions<Azure.Monitor.OpenTelemetry.Exporter.AzureMonitorExporterOptions>>().Any();
        Assert.True(ExporterConfigured(host.Services));
        Assert.False(ExporterConfigured(plain.Services));
    }

    [Theory]
    [InlineData("Moe__UploadsContainer", "", "Moe__UploadsContainer")]
    [InlineData("Moe__ClipsQueue", " ", "Moe__ClipsQueue")]
    [InlineData("Moe__BatchWindows", "0", "Moe__BatchWindows")]
    [InlineData("Moe__Device", "tpu", "Moe__Device")]
    [InlineData("Moe__Notifier", "ServiceBus", "Moe__ServiceBus__FullyQualifiedNamespace")]
    public void A_bad_setting_stops_the_start_with_its_name(string key, string value, string named)
    {
        var settings = AppTestHost.SampleSettings();
        settings[key] = value;
        using var host = AppTestHost.Build(settings);
        var e = Assert.Throws<OptionsValidationException>(() => Validate(host.Services));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void Storage_clients_use_service_uris_and_a_credential_in_azure_and_say_which_setting_is_missing()
    {
        var credential = new StaticCredential();
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MoeStorage:blobServiceUri"] = "https://moeacct.blob.core.windows.net",
            ["MoeStorage:queueServiceUri"] = "https://moeacct.queue.core.windows.net",
            ["MoeStorage:tableServiceUri"] = "https://moeacct.table.core.windows.net",
        }).Build();
        var (blobs, queues, tables) = CloudClients.Storage(config, credential);
        Assert.Equal("moeacct", blobs.AccountName);
        Assert.Equal("https://moeacct.queue.core.windows.net/", queues.Uri.ToString());
        Assert.Equal("moeacct", tables.AccountName);
        Assert.False(blobs.CanGenerateAccountSasUri); // no key anywhere

        var byAccount = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["MoeStorage:accountName"] = "other" }).Build();
        Assert.Equal("https://other.table.core.windows.net/", CloudClients.Storage(byAccount, credential).Tables.Uri.ToString());

        var empty = new ConfigurationBuilder().Build();
        var e = Assert.Throws<InvalidOperationException>(() => CloudClients.Storage(empty, credential));
        Assert.Contains("MoeStorage__blobServiceUri", e.Message);
    }

    private sealed class StaticCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new("token", DateTimeOffset.MaxValue);
        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(GetToken(requestContext, cancellationToken));
    }
}
