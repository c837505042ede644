using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Queues;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>Where a finished scan is announced. Called once per scan by the finalize winner.</summary>
public interface INotificationSink
{
    Task NotifyAsync(ScanNotification notification, CancellationToken ct = default);
}

/// <summary>
/// Service Bus queue through the SDK (the Functions output binding cannot set MessageId).
/// MessageId = scan id, so the queue's duplicate detection drops a repeat from a resumed finalize.
/// </summary>
public sealed class ServiceBusNotificationSink(ServiceBusSender sender) : INotificationSink
{
    public Task NotifyAsync(ScanNotification n, CancellationToken ct = default) => sender.SendMessageAsync(ToMessage(n), ct);

    public static ServiceBusMessage ToMessage(ScanNotification n)
    {
        var message = new ServiceBusMessage(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(n, ScanJson.Options)))
        {
            MessageId = n.ScanId,
            Subject = n.Verdict.ToString(),
            ContentType = "application/json",
        };
        message.ApplicationProperties["verdict"] = n.Verdict.ToString();
        if (n.SpoofProbability is { } p) message.ApplicationProperties["score"] = p;
        message.ApplicationProperties["source"] = n.Source;
        message.ApplicationProperties["schema"] = ScanNotification.CurrentSchema;
        return message;
    }
}

/// <summary>Same JSON body on an Azure Storage queue (base64, as a Functions queue trigger reads it); serves Azurite.</summary>
public sealed class StorageQueueNotificationSink(QueueClient queue) : INotificationSink
{
    public async Task NotifyAsync(ScanNotification n, CancellationToken ct = default) =>
        await queue.SendMessageAsync(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(n, ScanJson.Options)), cancellationToken: ct);
}
