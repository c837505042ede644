using Azure.Core;
using Azure.Messaging.ServiceBus;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace MoeFunctions.App;

/// <summary>The worker's services, shared by Program.cs and the tests that build the host.</summary>
public static class MoeAppServices
{
    public static IServiceCollection AddMoeCloud(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<MoeCloudOptions>().Bind(config.GetSection(MoeCloudOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MoeCloudOptions>, MoeCloudOptionsValidator>();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<MoeCloudOptions>>().Value);

        services.AddSingleton<TokenCredential>(_ => CloudClients.Credential());
        services.AddSingleton(sp =>
        {
            var (blobs, queues, tables) = CloudClients.Storage(config, sp.GetRequiredService<TokenCredential>());
            return new CloudStorage(blobs, queues, tables, sp.GetRequiredService<MoeCloudOptions>());
        });
        services.AddSingleton(sp => CloudClients.ServiceBus(sp.GetRequiredService<MoeCloudOptions>().ServiceBus, sp.GetRequiredService<TokenCredential>()));
        services.AddSingleton(sp => sp.GetRequiredService<ServiceBusClient>().CreateSender(sp.GetRequiredService<MoeCloudOptions>().ServiceBus.QueueName));
        services.AddSingleton<INotificationSink>(sp =>
        {
            var o = sp.GetRequiredService<MoeCloudOptions>();
            return o.Notifier == NotifierKind.ServiceBus
                ? new ServiceBusNotificationSink(sp.GetRequiredService<ServiceBusSender>())
                : new StorageQueueNotificationSink(sp.GetRequiredService<CloudStorage>().Queues.GetQueueClient(o.NotificationQueue));
        });

        // Loaded once per process; the warm-up service loads it at start so the first message does not wait.
        services.AddSingleton<IWindowScorer>(sp =>
        {
            var o = sp.GetRequiredService<MoeCloudOptions>();
            string path = Path.IsPathRooted(o.ModelPath) ? o.ModelPath : Path.Combine(AppContext.BaseDirectory, o.ModelPath);
            return new BundleWindowScorer(path, new ScorerOptions { Device = o.ExecutionDevice, Mode = o.Mode, TopK = o.TopK, Precision = o.Precision },
                sp.GetRequiredService<ILogger<BundleWindowScorer>>());
        });
        services.AddHostedService<ScorerWarmUp>();
        if (!string.IsNullOrWhiteSpace(config[CloudClients.StorageConnection]))
            services.AddHostedService<DevelopmentStorageBootstrap>();

        services.AddSingleton<FinalizeStage>();
        services.AddSingleton<IngestStage>();
        services.AddSingleton<ScoreStage>();
        services.AddSingleton<PoisonStage>();
        return services;
    }

    /// <summary>Traces and metrics through the Functions worker's OpenTelemetry integration; Azure Monitor when its connection string is set.</summary>
    public static IServiceCollection AddMoeTelemetry(this IServiceCollection services, IConfiguration config)
    {
        var otel = services.AddOpenTelemetry().UseFunctionsWorkerDefaults()
            .WithTracing(t => t.AddSource(CloudTelemetry.SourceName));
        if (!string.IsNullOrWhiteSpace(config["APPLICATIONINSIGHTS_CONNECTION_STRING"]))
            otel.UseAzureMonitorExporter();
        return services;
    }
}

/// <summary>Loads the model bundle and runs one window at start-up on deployments that score, so a broken bundle stops the start.</summary>
public sealed class ScorerWarmUp(IServiceProvider services, MoeCloudOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Role != DeploymentRole.Ingest) services.GetRequiredService<IWindowScorer>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// With a connection string (Azurite, development) the app creates its containers, queues and table at start, so
/// `func start` works on an empty Azurite. In Azure the infra creates them and the identity has data rights only.
/// </summary>
public sealed class DevelopmentStorageBootstrap(CloudStorage storage, MoeCloudOptions options, ILogger<DevelopmentStorageBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await storage.EnsureCreatedAsync(cancellationToken);
            await storage.Queues.GetQueueClient(options.ClipsQueue + "-poison").CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            if (options.Notifier == NotifierKind.StorageQueue)
                await storage.Queues.GetQueueClient(options.NotificationQueue).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not create the storage resources; the functions fail until they exist");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
