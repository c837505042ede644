using System.Diagnostics;
using MoeFunctions.TestSupport;

namespace MoeFunctions.IntegrationTests.Faults;

/// <summary>
/// An Azurite of the test's own, on fixed free ports, persisting to a temp folder (no --inMemoryPersistence) so its data
/// survives a stop and a restart. Stop sends SIGTERM, as a service manager would, so Azurite saves its metadata first.
/// </summary>
public sealed class RestartableAzurite : IAsyncDisposable
{
    private readonly string _location = Directory.CreateTempSubdirectory("moe-azurite-faults-").FullName;
    private readonly System.Text.StringBuilder _output = new();
    private Process? _process;

    public RestartableAzurite()
    {
        (BlobPort, QueuePort, TablePort) = (AzuriteFixture.FreePort(), AzuriteFixture.FreePort(), AzuriteFixture.FreePort());
    }

    public int BlobPort { get; }
    public int QueuePort { get; }
    public int TablePort { get; }
    public int Starts { get; private set; }

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteFixture.DevAccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public async Task StartAsync()
    {
        if (_process is not null) throw new InvalidOperationException("already running");
        string exe = AzuriteFixture.FindAzurite() ?? throw new InvalidOperationException(
            "Azurite is not installed: `npm install -g azurite@3.37.0` (scripts/deps/cloud.npm; scripts/setup.sh does it).");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     "--silent", "--skipApiVersionCheck", "--disableTelemetry", "--location", _location,
                     "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                     "--blobPort", BlobPort.ToString(), "--queuePort", QueuePort.ToString(), "--tablePort", TablePort.ToString(),
                 })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Starts++;

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await AzuriteFixture.AnswersAsync(BlobPort) && await AzuriteFixture.AnswersAsync(QueuePort) && await AzuriteFixture.AnswersAsync(TablePort)))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (_output) log = _output.ToString();
                throw new InvalidOperationException($"Azurite did not come up on {BlobPort}/{QueuePort}/{TablePort}:\n{log}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>SIGTERM and wait for the exit (SIGKILL after 20 s); the ports then refuse connections.</summary>
    public async Task StopAsync()
    {
        var process = _process ?? throw new InvalidOperationException("not running");
        _process = null;
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", process.Id.ToString() }, UseShellExecute = false }))
            kill?.WaitForExit(5_000);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        process.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
        }
        _process?.Dispose();
        _process = null;
        try { Directory.Delete(_location, recursive: true); } catch (IOException) { }
    }
}
