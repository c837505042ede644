using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Options;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Tests.Cloud;

public sealed class CloudUnitTests
{
    [Fact]
    public void Scan_id_is_stable_for_one_upload_and_changes_with_name_container_or_etag()
    {
        string id = CloudNames.ScanId("uploads", "a.wav", "0x8D1");
        Assert.Equal(MoeFunctions.Scanning.Pipeline.ScanIds.Length, id.Length);
        Assert.Equal(id, CloudNames.ScanId("uploads", "a.wav", "\"0x8D1\""));
        Assert.NotEqual(id, CloudNames.ScanId("uploads", "a.wav", "0x8D2"));
        Assert.NotEqual(id, CloudNames.ScanId("uploads", "b.wav", "0x8D1"));
        Assert.NotEqual(id, CloudNames.ScanId("other", "a.wav", "0x8D1"));
    }

    [Fact]
    public void Pcm16_batches_round_trip_window_after_window_within_one_step()
    {
        var rng = new Random(7);
        var windows = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 480).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToList();
        windows[1][0] = 1.5f; windows[1][1] = float.NaN; // clipped, silenced
        using var ms = new MemoryStream();
        foreach (var w in windows) PcmCodec.Write(ms, w);
        Assert.Equal(3 * 480 * 2, ms.Length);

        var back = PcmCodec.ReadWindows(ms.ToArray(), 480, 3);
        Assert.Equal(1f, back[1][0]);
        Assert.Equal(0f, back[1][1]);
        for (int w = 0; w < 3; w++)
            for (int i = 2; i < 480; i++)
                Assert.InRange(back[w][i] - windows[w][i], -1f / 32767, 1f / 32767);
        Assert.Throws<InvalidDataException>(() => PcmCodec.ReadWindows(ms.ToArray(), 480, 4));
    }

    [Fact]
    public void Options_validation_names_the_setting_to_fix()
    {
        var v = new MoeCloudOptionsValidator();
        Assert.True(v.Validate(null, new MoeCloudOptions()).Succeeded);

        var bad = new MoeCloudOptions { UploadsContainer = "", BatchWindows = 0, Device = "tpu", Notifier = NotifierKind.ServiceBus };
        var r = v.Validate(null, bad);
        Assert.True(r.Failed);
        Assert.Contains(r.Failures!, f => f.Contains("Moe__UploadsContainer"));
        Assert.Contains(r.Failures!, f => f.Contains("Moe__BatchWindows"));
        Assert.Contains(r.Failures!, f => f.Contains("Moe__Device"));
        Assert.Contains(r.Failures!, f => f.Contains("Moe__ServiceBus__FullyQualifiedNamespace"));

        var int8OnCuda = v.Validate(null, new MoeCloudOptions { Device = "cuda", Precision = ExpertPrecision.Int8 });
        Assert.Contains(int8OnCuda.Failures!, f => f.Contains("Moe__Precision"));
        Assert.True(v.Validate(null, new MoeCloudOptions { Precision = ExpertPrecision.Int8 }).Succeeded);
    }

    [Fact]
    public void Clip_batch_message_json_carries_every_window_and_reads_back()
    {
        var m = new ClipBatchMessage
        {
            ScanId = "abc", Batch = 2, BatchCount = 5, Clip = "abc/00002",
            Windows = [new ClipWindow(128, 384, 387, true), new ClipWindow(129, 387, 390, false)],
        };
        var json = JsonSerializer.Serialize(m, ScanJson.Options);
        Assert.Contains("\"scanId\":\"abc\"", json);
        var back = ScoreStage.Parse(BinaryData.FromString(json));
        Assert.Equal(m.Windows, back.Windows);
        Assert.Equal(ClipBatchMessage.CurrentSchema, back.Schema);

        // The largest batch the options allow (512 windows of a 6-hour file) stays under the 64 KB queue message limit once base64-encoded.
        var big = m with { Windows = Enumerable.Range(7000, 512).Select(i => new ClipWindow(i, i * 3.0, i * 3.0 + 3, i % 2 == 0)).ToList() };
        int base64 = (JsonSerializer.SerializeToUtf8Bytes(big, ScanJson.Options).Length + 2) / 3 * 4;
        Assert.InRange(base64, 1, 64 * 1024);
    }

    [Fact]
    public void Clip_batch_message_parse_refuses_garbage()
    {
        Assert.ThrowsAny<Exception>(() => ScoreStage.Parse(BinaryData.FromString("null")));
        Assert.ThrowsAny<JsonException>(() => ScoreStage.Parse(BinaryData.FromString("{\"scanId\":")));
    }

    private sealed class CapturingSender : ServiceBusSender
    {
        public List<ServiceBusMessage> Sent { get; } = [];
        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            Sent.Add(message);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Service_bus_notification_uses_scan_id_as_message_id_and_verdict_as_subject()
    {
        var sender = new CapturingSender();
        var n = new ScanNotification
        {
            ScanId = "0123abcd", Verdict = Verdict.Fake, SpoofProbability = 0.93, Source = "uploads/call 1.wav", SourceETag = "0x1",
            Result = "results/0123abcd.json", WindowsScored = 4, ScannedAt = DateTimeOffset.UnixEpoch,
        };
        await new ServiceBusNotificationSink(sender).NotifyAsync(n);

        var m = Assert.Single(sender.Sent);
        Assert.Equal("0123abcd", m.MessageId);
        Assert.Equal("Fake", m.Subject);
        Assert.Equal("application/json", m.ContentType);
        Assert.Equal("Fake", m.ApplicationProperties["verdict"]);
        Assert.Equal(0.93, m.ApplicationProperties["score"]);
        Assert.Equal("uploads/call 1.wav", m.ApplicationProperties["source"]);
        var body = m.Body.ToObjectFromJson<ScanNotification>(ScanJson.Options)!;
        Assert.Equal(n, body);
    }
}
