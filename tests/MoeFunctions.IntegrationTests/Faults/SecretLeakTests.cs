using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using System.Web;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoeFunctions.Scanning.Cloud;
using MoeFunctions.TestSupport;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>
/// Issue 8: SAS tokens and connection strings never appear in logs or results. The whole pipeline (ingest, score,
/// finalize, the failure paths) runs with a storage connection string holding an AccountKey, a Service Bus connection
/// string with a SharedAccessKey in the options, and uploads handed over as SAS URLs; everything it logged (messages,
/// structured values, scopes, exceptions) and everything it stored is then searched for those secrets.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class SecretLeakTests(AzuriteFixture azurite)
{
    /// <summary>Records every log call at every level, as text: category, message, structured values, scopes and the exception with its inner ones.</summary>
    private sealed class RecordEverything : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        public ConcurrentQueue<(LogLevel Level, string Text, bool HasException)> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public void Dispose() { }

        private sealed class Logger(RecordEverything owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var text = new StringBuilder($"{category} {logLevel}: {formatter(state, exception)}");
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                    foreach (var kv in values) text.Append($" | {kv.Key}={kv.Value}");
                owner._scopes.ForEachScope((s, sb) => sb.Append(" | scope ").Append(s is IEnumerable<KeyValuePair<string, object>> p
                    ? string.Join(", ", p.Select(kv => $"{kv.Key}={kv.Value}")) : s?.ToString()), text);
                if (exception is not null) text.Append(" | ").Append(exception);   // ToString: type, message, inner exceptions, stack
                owner.Lines.Enqueue((logLevel, text.ToString(), exception is not null));
            }
        }
    }

    /// <summary>Breaks the SAS signature of blob downloads only, so the read fails at the server (403) after the properties were read.</summary>
    private sealed class CorruptSignatureOnRead : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) { Corrupt(message); ProcessNext(message, pipeline); }
        public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) { Corrupt(message); return ProcessNextAsync(message, pipeline); }

        private static void Corrupt(HttpMessage message)
        {
            if (message.Request.Method != RequestMethod.Get) return;
            var uri = message.Request.Uri.ToUri().ToString();
            message.Request.Uri.Reset(new Uri(SigRegex().Replace(uri, "sig=AAAAbroken%3D")));
        }
    }

    [GeneratedRegex("sig=[^&]+")]
    private static partial Regex SigRegex();

    /// <summary>What counts as a leak: a SAS signature (redacted ones excepted), an account or access key, or one of the given secret values.</summary>
    private static List<string> Leaks(string text, IEnumerable<string> secrets)
    {
        var found = new List<string>();
        foreach (Match m in Regex.Matches(text, @"sig=([^&\s""']+)", RegexOptions.IgnoreCase))
            if (!m.Groups[1].Value.StartsWith("REDACTED", StringComparison.Ordinal)) found.Add(m.Value);
        foreach (var marker in new[] { "AccountKey=", "SharedAccessKey=", "SharedAccessSignature=" })
            if (text.Contains(marker, StringComparison.OrdinalIgnoreCase)) found.Add(marker);
        foreach (var s in secrets)
            if (text.Contains(s, StringComparison.Ordinal) || text.Contains(Uri.EscapeDataString(s), StringComparison.Ordinal)) found.Add(s[..8] + "...");
        return found;
    }

    [Fact]
    public async Task Sas_tokens_and_connection_strings_never_reach_logs_results_notifications_or_the_scans_table()
    {
        string busKey = Convert.ToBase64String(Guid.NewGuid().ToByteArray()) + Convert.ToBase64String(Guid.NewGuid().ToByteArray());
        string busConnection = $"Endpoint=sb://moe-leak-test.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={busKey}";
        var logs = new RecordEverything();
        await using var chain = new CloudChain(azurite,
            settings: s => s["Moe__ServiceBus__ConnectionString"] = busConnection,
            services: s =>
            {
                s.AddSingleton<ILoggerProvider>(logs);
                s.Configure<LoggerFilterOptions>(o => { o.MinLevel = LogLevel.Trace; o.Rules.Clear(); });
            });
        await chain.CreateAsync();
        Assert.Contains("AccountKey=", chain.Settings["MoeStorage"]);
        var ingest = chain.Host.Services.GetRequiredService<IngestStage>();
        ingest.ReleasePatience = TimeSpan.FromSeconds(1);

        string notes = Path.Combine(Directory.CreateTempSubdirectory("moe-leak").FullName, "notes.wav");
        await File.WriteAllTextAsync(notes, "Meeting notes, not audio.\n");
        var speech = await chain.UploadAsync(FaultMedia.ShortSpeechWav(), "sas/call.wav");
        var text = await chain.UploadAsync(notes, "sas/notes.wav");
        var broken = await chain.UploadAsync(FaultMedia.ShortSpeechWav(), "sas/broken.wav");
        Uri Sas(BlobClient b) => b.GenerateSasUri(BlobSasPermissions.Read, DateTimeOffset.UtcNow.AddHours(1));
        var sasUris = new[] { Sas(speech), Sas(text), Sas(broken) };
        var secrets = new List<string> { AzuriteFixture.DevAccountKey, busKey, chain.Settings["MoeStorage"], busConnection };
        secrets.AddRange(sasUris.Select(u => HttpUtility.ParseQueryString(u.Query)["sig"]!));
        Assert.All(sasUris, u => Assert.NotEmpty(Leaks(u.ToString(), secrets)));   // the checker sees a SAS URL

        // A good upload and a non-audio one through SAS URLs, then a SAS read the server refuses (logged with its exception).
        var reports = new List<IngestReport>
        {
            await ingest.RunAsync(new BlobClient(sasUris[0]), "invocation-1"),
            await ingest.RunAsync(new BlobClient(sasUris[1]), "invocation-2"),
        };
        var options = new BlobClientOptions();
        options.AddPolicy(new CorruptSignatureOnRead(), HttpPipelinePosition.PerCall);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ingest.RunAsync(new BlobClient(sasUris[2], options), "invocation-3"));
        await chain.DrainAsync();

        Assert.Equal(new[] { IngestOutcome.Queued, IngestOutcome.Failed }, reports.Select(r => r.Outcome));
        Assert.Contains(logs.Lines, l => l.HasException && l.Level == LogLevel.Error && l.Text.Contains(refused.GetType().Name));
        Assert.Contains(logs.Lines, l => l.Text.Contains(reports[0].ScanId) && l.Text.Contains("sas/call.wav"));
        string logText = string.Join('\n', logs.Lines.Select(l => l.Text));
        foreach (var stage in new[] { nameof(IngestStage), nameof(ScoreStage), nameof(FinalizeStage) })
            Assert.True(logs.Lines.Any(l => l.Text.StartsWith($"MoeFunctions.Scanning.Cloud.{stage} ", StringComparison.Ordinal)), $"no {stage} line in:\n{logText}");

        var stored = new StringBuilder();
        foreach (var container in new[] { chain.Storage.Results, chain.Storage.Clips })
            foreach (var name in await chain.BlobNamesAsync(container))
                if (name.EndsWith(".json", StringComparison.Ordinal))
                    stored.AppendLine((await container.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString());
        foreach (var n in (await chain.Notifications.PeekMessagesAsync(32)).Value) stored.AppendLine(n.Body.ToString());
        await foreach (var row in chain.Storage.Scans.Table.QueryAsync<TableEntity>())
            stored.AppendLine(string.Join(", ", row.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Contains(reports[0].ScanId, stored.ToString());
        Assert.Contains("sas/notes.wav", stored.ToString());

        Assert.Empty(Leaks(logText, secrets));
        Assert.Empty(Leaks(stored.ToString(), secrets));
    }
}
