using Azure;
using Azure.Data.Tables;

namespace MoeFunctions.Scanning.Cloud;

public static class ScanStatus
{
    public const string Ingesting = "Ingesting";
    public const string Queued = "Queued";
    public const string Finalizing = "Finalizing";
    public const string Done = "Done";
    public const string Failed = "Failed";
}

/// <summary>The scan row of table `scans` (PartitionKey = scan id, RowKey = "scan"). Batch-done markers share the partition.</summary>
public sealed class ScanEntity : ITableEntity
{
    public const string ScanRowKey = "scan";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = ScanRowKey;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Status { get; set; } = ScanStatus.Ingesting;
    public string Container { get; set; } = "";
    public string Name { get; set; } = "";
    public string SourceETag { get; set; } = "";
    public long? Bytes { get; set; }
    public int BatchCount { get; set; }
    public int WindowCount { get; set; }
    /// <summary>Who holds the current step (ingest invocation, or the batch that finalizes); a redelivery of the same holder resumes it.</summary>
    public string? ClaimKey { get; set; }
    public DateTimeOffset? ClaimedAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? QueuedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public double DecodeMs { get; set; }
    public string? Format { get; set; }
    public string? Decoder { get; set; }
    public int? SampleRate { get; set; }
    public int? Channels { get; set; }
    public double? DurationSeconds { get; set; }
    public string? Verdict { get; set; }
    public string? Reason { get; set; }

    public string ScanId => PartitionKey;
    public bool IsTerminal => Status is ScanStatus.Done or ScanStatus.Failed;
}

/// <summary>
/// Table operations of the workflow. Every state change of the scan row is a conditional update (If-Match on its ETag),
/// so of several concurrent invocations exactly one wins a claim.
/// </summary>
public sealed class ScanStore(TableClient table)
{
    private const string BatchPrefix = "batch-";

    public TableClient Table => table;

    public async Task<ScanEntity?> GetAsync(string scanId, CancellationToken ct = default)
    {
        var r = await table.GetEntityIfExistsAsync<ScanEntity>(scanId, ScanEntity.ScanRowKey, cancellationToken: ct);
        return r.HasValue ? r.Value : null;
    }

    /// <summary>
    /// Inserts the row; false (and the existing row) when another writer's row is already there. A row that carries this
    /// insert's own non-empty <see cref="ScanEntity.ClaimKey"/> counts as created: the SDK retried our insert after its first
    /// attempt had landed (answer lost in a network fault), and the retry's 409 is our own row, not a competitor's.
    /// </summary>
    public async Task<(bool Created, ScanEntity Entity)> TryCreateAsync(ScanEntity entity, CancellationToken ct = default)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var response = await table.AddEntityAsync(entity, ct);
                entity.ETag = response.Headers.ETag ?? default;
                return (true, entity);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                var existing = await GetAsync(entity.PartitionKey, ct);
                if (existing is not null)
                    return (IsOwnInsert(entity, existing), existing);
                // Deleted between our insert and our read (its owner released it): insert again.
                if (attempt == 3) throw new InvalidOperationException($"scan {entity.PartitionKey} keeps vanishing during creation", e);
            }
        }
    }

    private static bool IsOwnInsert(ScanEntity mine, ScanEntity existing) =>
        !string.IsNullOrEmpty(mine.ClaimKey) && existing.ClaimKey == mine.ClaimKey && existing.Status == mine.Status;

    /// <summary>Replaces the row if nobody changed it since it was read; false when another writer got there first.</summary>
    public async Task<bool> TryUpdateAsync(ScanEntity entity, CancellationToken ct = default)
    {
        try
        {
            var response = await table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, ct);
            entity.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>Deletes the row only if it is still the version the caller holds.</summary>
    public async Task TryDeleteAsync(ScanEntity entity, CancellationToken ct = default)
    {
        try { await table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, entity.ETag, ct); }
        catch (RequestFailedException e) when (e.Status is 412 or 404) { }
    }

    public async Task MarkBatchDoneAsync(string scanId, int batch, CancellationToken ct = default) =>
        await table.UpsertEntityAsync(new TableEntity(scanId, $"{BatchPrefix}{batch:D5}") { ["DoneAt"] = DateTimeOffset.UtcNow }, TableUpdateMode.Replace, ct);

    public async Task<int> CountDoneBatchesAsync(string scanId, CancellationToken ct = default)
    {
        int n = 0;
        string filter = TableClient.CreateQueryFilter($"PartitionKey eq {scanId} and RowKey ge {BatchPrefix} and RowKey lt {"batch."}");
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: ct)) n++;
        return n;
    }

    /// <summary>
    /// Moves the scan to Finalizing for <paramref name="claimKey"/> if its status is one of <paramref name="from"/>.
    /// Returns the claimed row, or null when the scan is finished or someone else holds it.
    /// The holder of the same key (a redelivered message) gets the row back, so a crashed finalize resumes.
    /// </summary>
    public async Task<ScanEntity?> TryClaimAsync(string scanId, string claimKey, IReadOnlyCollection<string> from, CancellationToken ct = default)
    {
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var e = await GetAsync(scanId, ct);
            if (e is null || e.IsTerminal) return null;
            if (e.Status == ScanStatus.Finalizing) return e.ClaimKey == claimKey ? e : null;
            if (!from.Contains(e.Status)) return null;
            e.Status = ScanStatus.Finalizing;
            e.ClaimKey = claimKey;
            e.ClaimedAt = DateTimeOffset.UtcNow;
            if (await TryUpdateAsync(e, ct)) return e;
            // Lost the race for this version: read again and decide on what the winner wrote.
        }
        return null;
    }
}
