using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.IntegrationTests;

/// <summary>
/// Issue 8: outputs never escape their place whatever the input's name. Uploads named with dots, folders, a leading dash,
/// quotes, markup and unicode each get exactly one result at results/{scanId}.json (a hash, never derived from the
/// name), their clips stay under clips/{scanId}/, and nothing else appears in any container.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HostileNameTests(AzuriteFixture azurite)
{
    private static readonly string[] Names =
    [
        // Blob Storage itself refuses names with `../` segments (Azurite answers 400 "invalid characters"), so a
        // traversal can only come from local files, which the Cli test and the decoder's file-name cases cover.
        "-rf .wav", "..wav", "nested/deeper/name.wav", "quote\"s and 'single'.wav", "<img src=x onerror=alert(1)>.wav", "ünï cödé ✓.wav",
    ];

    [Fact]
    public async Task Hostile_upload_names_yield_one_result_each_under_its_scan_id_and_nothing_else()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        var speech = TestMedia.SpeechWav();
        var reports = new List<IngestReport>();
        foreach (var name in Names) reports.Add(await chain.IngestAsync(await chain.UploadAsync(speech, name)));
        Assert.All(reports, r => Assert.Equal(IngestOutcome.Queued, r.Outcome));
        Assert.Equal(Names.Length, reports.Select(r => r.ScanId).Distinct().Count());
        Assert.All(reports, r => Assert.Matches("^[0-9a-f]+$", r.ScanId));

        await chain.DrainAsync();
        var resultBlobs = await chain.BlobNamesAsync(chain.Storage.Results);
        // Every blob in the results container belongs to one of the scans: its result or its batch results.
        Assert.All(resultBlobs, b => Assert.Contains(reports, r => b == CloudNames.ResultBlob(r.ScanId) || b.StartsWith(CloudNames.BatchResultPrefix(r.ScanId), StringComparison.Ordinal)));
        Assert.DoesNotContain(resultBlobs, b => b.Contains("evil", StringComparison.Ordinal) || b.Contains("..", StringComparison.Ordinal));
        Assert.Empty(await chain.BlobNamesAsync(chain.Storage.Clips)); // every scan finished and cleaned its clips
        Assert.Equal(Names.Order(StringComparer.Ordinal), (await chain.BlobNamesAsync(chain.Storage.Uploads)).Order(StringComparer.Ordinal));

        foreach (var (name, report) in Names.Zip(reports))
        {
            var result = await chain.ResultAsync(report.ScanId);
            Assert.NotNull(result);
            Assert.Equal(name, result.Source.Name); // kept verbatim as data
        }
        Assert.Equal(Names.Length, (await chain.NotificationsAsync()).Count);
    }
}
