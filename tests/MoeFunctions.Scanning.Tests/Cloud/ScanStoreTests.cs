using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Scanning.Tests.Cloud;

[Collection(AzuriteCollection.Name)]
public sealed class ScanStoreTests(AzuriteFixture azurite)
{
    private static ScanEntity NewScan(string id, string status) => new()
    {
        PartitionKey = id, Status = status, Container = "up", Name = "a.wav", SourceETag = "e1", BatchCount = 3, CreatedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task Creating_the_same_scan_twice_inserts_once_and_returns_the_existing_row()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        var (first, _) = await bed.Storage.Scans.TryCreateAsync(NewScan("s1", ScanStatus.Ingesting));
        var (second, existing) = await bed.Storage.Scans.TryCreateAsync(NewScan("s1", ScanStatus.Queued));
        Assert.True(first);
        Assert.False(second);
        Assert.Equal(ScanStatus.Ingesting, existing.Status);
    }

    [Fact]
    public async Task Eight_concurrent_claims_have_exactly_one_winner_and_the_winner_can_resume()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        await bed.Storage.Scans.TryCreateAsync(NewScan("s2", ScanStatus.Queued));

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => bed.Storage.Scans.TryClaimAsync("s2", $"batch-{i}", [ScanStatus.Queued]))));

        var winners = claims.Where(c => c is not null).ToList();
        Assert.Single(winners);
        string key = winners[0]!.ClaimKey!;
        // The same holder (a redelivered message) gets the claim back; anyone else does not.
        Assert.NotNull(await bed.Storage.Scans.TryClaimAsync("s2", key, [ScanStatus.Queued]));
        Assert.Null(await bed.Storage.Scans.TryClaimAsync("s2", "batch-99", [ScanStatus.Queued]));
    }

    [Fact]
    public async Task A_finished_scan_cannot_be_claimed_and_batch_markers_count_once_each()
    {
        var bed = new CloudTestBed(azurite);
        await bed.CreateAsync();
        await bed.Storage.Scans.TryCreateAsync(NewScan("s3", ScanStatus.Done));
        Assert.Null(await bed.Storage.Scans.TryClaimAsync("s3", "batch-0", [ScanStatus.Queued, ScanStatus.Ingesting]));

        await bed.Storage.Scans.MarkBatchDoneAsync("s3", 0);
        await bed.Storage.Scans.MarkBatchDoneAsync("s3", 0);
        await bed.Storage.Scans.MarkBatchDoneAsync("s3", 2);
        Assert.Equal(2, await bed.Storage.Scans.CountDoneBatchesAsync("s3"));
    }
}
