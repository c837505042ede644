using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.IntegrationTests;

[Collection(AzuriteCollection.Name)]
public sealed class CloudChainTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Speech_uploads_flow_from_blob_trigger_to_one_result_and_one_notification_each()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        var wav = await chain.UploadAsync(TestMedia.SpeechWav(), "calls/speech 1.wav");
        var mp3 = await chain.UploadAsync(TestMedia.SpeechMp3(), "calls/speech.mp3");

        var reports = new[] { await chain.IngestAsync(wav), await chain.IngestAsync(mp3) };
        Assert.All(reports, r => Assert.Equal(IngestOutcome.Queued, r.Outcome));
        Assert.All(reports, r => Assert.True(r.Batches >= 2, $"{r.Windows} windows in {r.Batches} batches"));
        Assert.Equal(reports.Sum(r => r.Batches), await chain.QueueLengthAsync(chain.Storage.ClipsQueue));

        var outcomes = await chain.DrainAsync();
        Assert.Equal(reports.Sum(r => r.Batches), outcomes.Count);
        Assert.Equal(2, outcomes.Count(o => o == ScoreOutcome.Finalized));

        var notifications = await chain.NotificationsAsync();
        Assert.Equal(2, notifications.Count);
        foreach (var (report, blob) in reports.Zip(new[] { wav, mp3 }))
        {
            var result = await chain.ResultAsync(report.ScanId);
            Assert.NotNull(result);
            var props = (await blob.GetPropertiesAsync()).Value;
            Assert.Equal(chain.Options.UploadsContainer, result.Source.Container);
            Assert.Equal(blob.Name, result.Source.Name);
            Assert.Equal(props.ETag.ToString().Trim('"'), result.Source.ETag);
            Assert.Equal(props.ContentLength, result.Source.Bytes);
            Assert.NotEqual(Verdict.Failed, result.Verdict);
            Assert.NotEqual(Verdict.NotApplicable, result.Verdict);
            Assert.NotNull(result.SpoofProbability);
            Assert.Equal(report.Windows, result.Windows.Count);
            Assert.Equal(Enumerable.Range(0, report.Windows), result.Windows.Select(w => w.Index));
            Assert.True(result.WindowsScored >= 1);
            Assert.All(result.Windows.Where(w => w.Speech), w => Assert.InRange(w.Score!.Value, 0, 1));
            Assert.InRange(result.Media!.DurationSeconds, 7, 14);
            Assert.True(result.Timings.DecodeMs > 0 && result.Timings.ScoreMs > 0 && result.Timings.TotalMs > 0);
            Assert.False(string.IsNullOrEmpty(result.Model.Sha256));

            var n = Assert.Single(notifications, n => n.ScanId == report.ScanId);
            Assert.Equal(result.Verdict, n.Verdict);
            Assert.Equal($"{chain.Options.ResultsContainer}/{report.ScanId}.json", n.Result);
            Assert.Equal($"{chain.Options.UploadsContainer}/{blob.Name}", n.Source);

            Assert.Empty(await chain.BlobNamesAsync(chain.Storage.Clips, CloudNames.ClipPrefix(report.ScanId)));
            Assert.Equal(report.Batches, (await chain.BlobNamesAsync(chain.Storage.Results, CloudNames.BatchResultPrefix(report.ScanId))).Count);
            Assert.Equal(ScanStatus.Done, (await chain.Storage.Scans.GetAsync(report.ScanId))!.Status);
        }
        // The file's format was detected from content: the mp3 went through an mp3 decoder.
        Assert.Equal("mp3", (await chain.ResultAsync(reports[1].ScanId))!.Media!.Format);
    }

    [Fact]
    public async Task The_same_upload_triggered_five_times_concurrently_and_then_again_is_scanned_once()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        var blob = await chain.UploadAsync(TestMedia.SpeechWav(), "dup.wav");

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Task.Run(() => chain.IngestAsync(blob))));
        Assert.Single(concurrent, r => r.Outcome == IngestOutcome.Queued);
        Assert.Equal(4, concurrent.Count(r => r.Outcome == IngestOutcome.Duplicate));
        Assert.Single(concurrent.Select(r => r.ScanId).Distinct());
        int batches = concurrent.Single(r => r.Outcome == IngestOutcome.Queued).Batches;
        Assert.Equal(batches, await chain.QueueLengthAsync(chain.Storage.ClipsQueue));

        await chain.DrainAsync();
        for (int i = 0; i < 5; i++)
            Assert.Equal(IngestOutcome.Duplicate, (await chain.IngestAsync(blob)).Outcome);
        await chain.DrainAsync();

        Assert.Single(await chain.NotificationsAsync());
        Assert.Single(await chain.BlobNamesAsync(chain.Storage.Results), n => !n.Contains('/'));

        // A re-upload is a new version (new ETag): a new scan with its own result.
        await chain.UploadAsync(TestMedia.SpeechWav(), "dup.wav");
        var again = await chain.IngestAsync(blob);
        Assert.Equal(IngestOutcome.Queued, again.Outcome);
        Assert.NotEqual(concurrent[0].ScanId, again.ScanId);
        await chain.DrainAsync();
        Assert.Equal(2, (await chain.NotificationsAsync()).Select(n => n.ScanId).Distinct().Count());
    }

    [Fact]
    public async Task A_text_file_named_wav_ends_as_failed_with_a_reason_and_a_notification()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        string path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "notes.wav");
        await File.WriteAllTextAsync(path, "These are meeting notes, not audio.\n");
        var blob = await chain.UploadAsync(path);

        var report = await chain.IngestAsync(blob);
        Assert.Equal(IngestOutcome.Failed, report.Outcome);
        Assert.Equal(0, await chain.QueueLengthAsync(chain.Storage.ClipsQueue));

        var result = (await chain.ResultAsync(report.ScanId))!;
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.Null(result.SpoofProbability);
        var n = Assert.Single(await chain.NotificationsAsync());
        Assert.Equal(Verdict.Failed, n.Verdict);
        Assert.Equal(result.Reason, n.Reason);
        Assert.Equal(ScanStatus.Failed, (await chain.Storage.Scans.GetAsync(report.ScanId))!.Status);

        // The trigger firing again for the same failed upload records nothing twice.
        Assert.Equal(IngestOutcome.Duplicate, (await chain.IngestAsync(blob)).Outcome);
        Assert.Single(await chain.NotificationsAsync());
    }

    [Fact]
    public async Task A_wav_with_a_header_and_no_samples_ends_with_one_clear_result()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        string path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "empty.wav");
        // A valid 16 kHz mono PCM16 header whose data chunk is empty.
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write("RIFF"u8); w.Write(36); w.Write("WAVE"u8);
            w.Write("fmt "u8); w.Write(16); w.Write((short)1); w.Write((short)1); w.Write(16000); w.Write(32000); w.Write((short)2); w.Write((short)16);
            w.Write("data"u8); w.Write(0);
        }
        var report = await chain.IngestAsync(await chain.UploadAsync(path));
        await chain.DrainAsync();

        var result = (await chain.ResultAsync(report.ScanId))!;
        Assert.Contains(result.Verdict, new[] { Verdict.NotApplicable, Verdict.Failed });
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.Equal(result.Verdict, Assert.Single(await chain.NotificationsAsync()).Verdict);
        Assert.True((await chain.Storage.Scans.GetAsync(report.ScanId))!.IsTerminal);
    }

    [Fact]
    public async Task Silence_is_not_applicable_and_its_windows_reach_the_result()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        var blob = await chain.UploadAsync(TestMedia.SilenceWav(7.5));

        var report = await chain.IngestAsync(blob);
        await chain.DrainAsync();

        var result = (await chain.ResultAsync(report.ScanId))!;
        Assert.Equal(Verdict.NotApplicable, result.Verdict);
        Assert.Equal(report.Windows, result.WindowsNotApplicable);
        Assert.Equal(0, result.WindowsScored);
        Assert.Equal(report.Windows, result.Windows.Count);
        Assert.All(result.Windows, w => Assert.False(w.Speech));
        Assert.Equal(Verdict.NotApplicable, Assert.Single(await chain.NotificationsAsync()).Verdict);
    }

    [Fact]
    public async Task Batches_that_keep_failing_go_to_the_poison_queue_and_fail_their_scan_once()
    {
        await using var chain = new CloudChain(azurite);
        await chain.CreateAsync();
        var blob = await chain.UploadAsync(TestMedia.SpeechWav(), "lost-clips.wav");
        var report = await chain.IngestAsync(blob);
        Assert.True(report.Batches >= 2);
        // Losing the clip batches makes every delivery of their messages fail.
        foreach (var name in await chain.BlobNamesAsync(chain.Storage.Clips, CloudNames.ClipPrefix(report.ScanId)))
            await chain.Storage.Clips.DeleteBlobAsync(name);

        await chain.DrainAsync();

        var result = (await chain.ResultAsync(report.ScanId))!;
        Assert.Equal(Verdict.Failed, result.Verdict);
        Assert.Contains("could not be scored", result.Reason);
        var n = Assert.Single(await chain.NotificationsAsync());
        Assert.Equal(Verdict.Failed, n.Verdict);
        Assert.Equal(0, await chain.QueueLengthAsync(chain.Storage.ClipsQueue));
        Assert.Equal(0, await chain.QueueLengthAsync(chain.Poison));
        Assert.Equal(ScanStatus.Failed, (await chain.Storage.Scans.GetAsync(report.ScanId))!.Status);
    }

    [Fact]
    public async Task Every_workflow_log_line_carries_the_scan_id()
    {
        var logs = new LogCapture();
        await using var chain = new CloudChain(azurite, services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        await chain.CreateAsync();
        var report = await chain.IngestAsync(await chain.UploadAsync(TestMedia.SpeechWav(), "logged.wav"));
        await chain.IngestAsync(await chain.UploadAsync(TestMedia.SpeechWav(), "logged.wav")); // a re-upload: a second scan id
        await chain.DrainAsync();

        var workflow = logs.Records.Where(r => r.Category.StartsWith("MoeFunctions.Scanning.Cloud.") && !r.Category.EndsWith("BundleWindowScorer")).ToList();
        Assert.True(workflow.Count >= 2 * (report.Batches + 2), $"{workflow.Count} workflow log lines");
        Assert.All(workflow, r => Assert.True(r.Scope.ContainsKey("scanId"), $"no scanId on '{r.Message}' ({r.Category})"));
        Assert.Equal(2, workflow.Select(r => r.Scope["scanId"]).Distinct().Count());
        Assert.Contains(workflow, r => r.Category.EndsWith("FinalizeStage") && r.Message.Contains("finalized"));
    }

    private sealed class CapturingSender : ServiceBusSender
    {
        public List<ServiceBusMessage> Sent { get; } = [];
        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            lock (Sent) Sent.Add(message);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task The_service_bus_notifier_sends_one_message_per_scan_with_the_scan_id_as_message_id()
    {
        var sender = new CapturingSender();
        await using var chain = new CloudChain(azurite,
            s => { s["Moe__Notifier"] = "ServiceBus"; s["Moe__ServiceBus__FullyQualifiedNamespace"] = "moe-test.servicebus.windows.net"; },
            services => services.AddSingleton<ServiceBusSender>(sender));
        await chain.CreateAsync();
        var blob = await chain.UploadAsync(TestMedia.SpeechWav(), "bus.wav");

        var report = await chain.IngestAsync(blob);
        await chain.IngestAsync(blob);
        await chain.DrainAsync();

        var m = Assert.Single(sender.Sent);
        var result = (await chain.ResultAsync(report.ScanId))!;
        Assert.Equal(report.ScanId, m.MessageId);
        Assert.Equal(result.Verdict.ToString(), m.Subject);
        Assert.Equal(result.Verdict.ToString(), m.ApplicationProperties["verdict"]);
        Assert.Equal(result.SpoofProbability, (double)m.ApplicationProperties["score"]);
        Assert.Equal($"{chain.Options.UploadsContainer}/bus.wav", m.ApplicationProperties["source"]);
        var body = m.Body.ToObjectFromJson<MoeFunctions.Scanning.Cloud.ScanNotification>(MoeFunctions.Scanning.Contracts.ScanJson.Options)!;
        Assert.Equal($"{chain.Options.ResultsContainer}/{report.ScanId}.json", body.Result);
        Assert.False((await chain.Notifications.ExistsAsync()).Value); // nothing went to the Storage-queue notifier
    }
}
