using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MoeFunctions.App.Tests.Support;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.App.Tests;

/// <summary>
/// The ingest claim's timings are only safe relative to host.json: a claim may be taken over as stale only once no live
/// ingest can still hold it, and a failed ingest's release retries and a duplicate's wait must end within one invocation.
/// </summary>
public sealed class IngestClaimTimingTests
{
    private static TimeSpan FunctionTimeout()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "host.json")));
        return TimeSpan.Parse(doc.RootElement.GetProperty("functionTimeout").GetString()!);
    }

    [Fact]
    public void A_stale_claim_is_older_than_any_live_ingest_and_waits_fit_in_one_invocation()
    {
        using var host = AppTestHost.Build(AppTestHost.SampleSettings());
        var stage = host.Services.GetRequiredService<IngestStage>();
        var timeout = FunctionTimeout();

        // The host stops an invocation at functionTimeout, so a claim older than that has no live owner.
        Assert.True(IngestStage.StaleClaim > timeout, $"StaleClaim {IngestStage.StaleClaim} <= functionTimeout {timeout}");
        // A failed ingest's release retries and a duplicate trigger's wait both run inside one invocation, after or instead of an ingest.
        Assert.True(stage.ReleasePatience < timeout / 2, $"ReleasePatience {stage.ReleasePatience}");
        Assert.True(stage.ClaimWait < timeout / 2, $"ClaimWait {stage.ClaimWait}");
        Assert.True(stage.ClaimPoll > TimeSpan.Zero && stage.ClaimPoll < stage.ClaimWait);
    }
}
