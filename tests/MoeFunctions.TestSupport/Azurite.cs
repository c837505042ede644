using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace MoeFunctions.TestSupport;

/// <summary>
/// xunit fixture: uses an Azurite already listening on 127.0.0.1:10000-10002, or starts `azurite` (node_modules/.bin or PATH)
/// in memory on free ports with the flags DESIGN.md lists, waits until it answers and stops it on dispose.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Azurite's published development account key (not a secret).</summary>
    public const string DevAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;
    private readonly System.Text.StringBuilder _output = new();

    public int BlobPort { get; private set; } = 10000;
    public int QueuePort { get; private set; } = 10001;
    public int TablePort { get; private set; } = 10002;
    public bool StartedHere => _process is not null;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevAccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{QueuePort}/devstoreaccount1;" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/devstoreaccount1;";

    public async Task InitializeAsync()
    {
        if (await AnswersAsync(10000) && await AnswersAsync(10001) && await AnswersAsync(10002)) return;

        string exe = FindAzurite() ?? throw new InvalidOperationException(
            "Azurite is not installed and nothing listens on 127.0.0.1:10000-10002. Install it with " +
            "`npm install -g azurite@3.37.0` (scripts/deps/cloud.npm; scripts/setup.sh does it) or start it yourself.");
        (BlobPort, QueuePort, TablePort) = (FreePort(), FreePort(), FreePort());
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--silent", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
                     "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1", "--tableHost", "127.0.0.1",
                     "--blobPort", BlobPort.ToString(), "--queuePort", QueuePort.ToString(), "--tablePort", TablePort.ToString(),
                 })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await AnswersAsync(BlobPort) && await AnswersAsync(QueuePort) && await AnswersAsync(TablePort)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                string log;
                lock (_output) log = _output.ToString();
                await DisposeAsync();
                throw new InvalidOperationException($"Azurite ({exe}) did not come up on ports {BlobPort}/{QueuePort}/{TablePort}:\n{log}");
            }
            await Task.Delay(200);
        }
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
        return Task.CompletedTask;
    }

    /// <summary>A lower-case name unique to one test, valid for containers, queues (with dashes) and, with dashes removed, tables.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];

    /// <summary>Whether something accepts TCP connections on the loopback port (used to wait for Azurite).</summary>
    public static async Task<bool> AnswersAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            await client.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>azurite from the nearest node_modules/.bin above the test binaries, else from PATH.</summary>
    public static string? FindAzurite()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "node_modules", ".bin", "azurite");
            if (File.Exists(candidate)) return candidate;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "azurite");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
