using Microsoft.Extensions.Logging.Abstractions;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Scanning.Tests.Cloud;

[Collection(AzuriteCollection.Name)]
public sealed class IngestStageTests(AzuriteFixture azurite)
{
    /// <summary>Fails the first N notifications, as a Service Bus outage would, then passes them to the real sink.</summary>
    private sealed class FlakySink(INotificationSink inner, int failures) : INotificationSink
    {
        private int _left = failures;
        public Task NotifyAsync(ScanNotification n, CancellationToken ct = default) =>
            Interlocked.Decrement(ref _left) >= 0 ? throw new TimeoutException("notification service unavailable") : inner.NotifyAsync(n, ct);
    }

    private static async Task<Azure.Storage.Blobs.BlobClient> UploadAsync(CloudTestBed bed, string name, string content)
    {
        var blob = bed.Storage.Uploads.GetBlobClient(name);
        await blob.UploadAsync(BinaryData.FromString(content));
        return blob;
    }

    [Fact]
    public async Task An_ingest_that_throws_releases_the_scan_so_the_triggers_retry_records_it_once()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        var finalize = new FinalizeStage(bed.Storage, new FlakySink(new StorageQueueNotificationSink(bed.Notifications), 1), bed.Options, NullLogger<FinalizeStage>.Instance);
        var ingest = new IngestStage(bed.Storage, finalize, bed.Options, NullLogger<IngestStage>.Instance);
        var blob = await UploadAsync(bed, "report.mp3", "%PDF-1.7 not audio at all");

        await Assert.ThrowsAsync<TimeoutException>(() => ingest.RunAsync(blob, "invocation-1"));
        string scanId = CloudNames.ScanId(blob.BlobContainerName, blob.Name, (await blob.GetPropertiesAsync()).Value.ETag.ToString());
        Assert.Null(await bed.Storage.Scans.GetAsync(scanId)); // released for the retry
        Assert.Empty(await bed.DrainNotificationsAsync());

        var retry = await ingest.RunAsync(blob, "invocation-2");
        Assert.Equal(IngestOutcome.Failed, retry.Outcome);
        Assert.Equal(scanId, retry.ScanId);
        var n = Assert.Single(await bed.DrainNotificationsAsync());
        Assert.Equal(Verdict.Failed, n.Verdict);
        Assert.Equal(IngestOutcome.Duplicate, (await ingest.RunAsync(blob, "invocation-3")).Outcome);
        Assert.Empty(await bed.DrainNotificationsAsync());
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_fails_naming_the_setting_without_being_decoded()
    {
        var bed = new CloudTestBed(azurite);
        bed.Options.MaxUploadBytes = 16;
        await bed.CreateAsync();
        var ingest = new IngestStage(bed.Storage, bed.Finalize, bed.Options, NullLogger<IngestStage>.Instance);
        var blob = await UploadAsync(bed, "big.wav", new string('x', 64));

        var report = await ingest.RunAsync(blob, "invocation-1");
        Assert.Equal(IngestOutcome.Failed, report.Outcome);
        Assert.Contains("Moe__MaxUploadBytes", report.Reason);
        var result = (await bed.ReadResultAsync(report.ScanId))!;
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Null(result.Media);
        Assert.Equal(64, result.Source.Bytes);
        Assert.Single(await bed.DrainNotificationsAsync());
    }
}
