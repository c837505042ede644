using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using MoeFunctions.Scanning.Cloud;

namespace MoeFunctions.App;

/// <summary>
/// Azure clients from the same settings the Functions host reads for Connection = "MoeStorage":
/// a connection string in MoeStorage (Azurite, development) or service URIs (MoeStorage__blobServiceUri, __queueServiceUri,
/// __tableServiceUri, or MoeStorage__accountName) with DefaultAzureCredential in Azure, so no key is ever stored.
/// </summary>
public static class CloudClients
{
    public const string StorageConnection = "MoeStorage";

    public static (BlobServiceClient Blobs, QueueServiceClient Queues, TableServiceClient Tables) Storage(IConfiguration config, TokenCredential credential)
    {
        var section = config.GetSection(StorageConnection);
        var blobOptions = new BlobClientOptions();
        // The Functions queue trigger reads base64; messages we send must match.
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        var tableOptions = new TableClientOptions();
        foreach (var o in new Azure.Core.ClientOptions[] { blobOptions, queueOptions, tableOptions })
        {
            // Transient storage faults are retried with exponential backoff; 4xx answers are not retried by the SDK.
            o.Retry.Mode = RetryMode.Exponential;
            o.Retry.MaxRetries = 5;
            o.Retry.Delay = TimeSpan.FromMilliseconds(500);
            o.Retry.MaxDelay = TimeSpan.FromSeconds(10);
        }

        if (!string.IsNullOrWhiteSpace(section.Value))
            return (new BlobServiceClient(section.Value, blobOptions), new QueueServiceClient(section.Value, queueOptions),
                    new TableServiceClient(section.Value, tableOptions));

        string? account = section["accountName"];
        Uri Endpoint(string key, string service) =>
            section[key] is { Length: > 0 } uri ? new Uri(uri)
            : account is { Length: > 0 } ? new Uri($"https://{account}.{service}.core.windows.net")
            : throw new InvalidOperationException(
                $"Setting {StorageConnection}__{key} (or {StorageConnection}__accountName, or a {StorageConnection} connection string for Azurite) is missing.");
        return (new BlobServiceClient(Endpoint("blobServiceUri", "blob"), credential, blobOptions),
                new QueueServiceClient(Endpoint("queueServiceUri", "queue"), credential, queueOptions),
                new TableServiceClient(Endpoint("tableServiceUri", "table"), credential, tableOptions));
    }

    public static ServiceBusClient ServiceBus(ServiceBusNotifierOptions options, TokenCredential credential)
    {
        var clientOptions = new ServiceBusClientOptions
        {
            RetryOptions = new ServiceBusRetryOptions { Mode = ServiceBusRetryMode.Exponential, MaxRetries = 5, MaxDelay = TimeSpan.FromSeconds(10) },
        };
        return !string.IsNullOrWhiteSpace(options.FullyQualifiedNamespace)
            ? new ServiceBusClient(options.FullyQualifiedNamespace, credential, clientOptions)
            : new ServiceBusClient(options.ConnectionString, clientOptions);
    }

    public static TokenCredential Credential() => new DefaultAzureCredential();
}
