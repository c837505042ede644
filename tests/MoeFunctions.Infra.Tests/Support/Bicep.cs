using System.Reflection;
using System.Text.Json.Nodes;

namespace MoeFunctions.Infra.Tests.Support;

/// <summary>The bicep CLI from the Azure.Bicep.CommandLine.linux-x64 package restore put in the NuGet cache.</summary>
public static class Bicep
{
    public const string PackageVersion = "0.49.2";

    public static string Executable { get; } = Locate();

    public static ToolRun Run(params string[] args) => Tool.Run(Executable, args);

    /// <summary>
    /// Evaluates main.bicep for a parameter set with `bicep snapshot`: every module expanded, every expression
    /// that does not need a live resource resolved. Returns the predicted resources.
    /// </summary>
    public static Snapshot SnapshotOfMain(IReadOnlyDictionary<string, string> parameters)
    {
        // A .bicepparam must name its template by a relative path: work on a scratch copy of infra/.
        var scratch = Directory.CreateTempSubdirectory("moe-infra-");
        try
        {
            CopyDirectory(Repo.Infra, scratch.FullName);
            var lines = new List<string> { "using 'main.bicep'" };
            lines.AddRange(parameters.Select(p => $"param {p.Key} = {p.Value}"));
            var paramFile = Path.Combine(scratch.FullName, "test.bicepparam");
            File.WriteAllLines(paramFile, lines);
            var run = Run("snapshot", paramFile,
                "--subscription-id", "00000000-0000-0000-0000-000000000001",
                "--tenant-id", "00000000-0000-0000-0000-000000000002",
                "--location", "westeurope",
                "--deployment-name", "moe-test");
            var snapshotFile = Path.Combine(scratch.FullName, "test.snapshot.json");
            if (run.ExitCode != 0 || !File.Exists(snapshotFile))
                throw new InvalidOperationException($"bicep snapshot failed: {run}");
            return new Snapshot(JsonNode.Parse(File.ReadAllText(snapshotFile))!.AsObject(), run);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }

    static string Locate()
    {
        var packagePath = typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "BicepPackagePath")?.Value;
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(packagePath)) candidates.Add(Path.Combine(packagePath, "tools", "bicep"));
        var nugetRoot = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(Path.Combine(nugetRoot, "azure.bicep.commandline.linux-x64", PackageVersion, "tools", "bicep"));

        var found = candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("bicep not found; restore tests/MoeFunctions.Infra.Tests. Looked in: " + string.Join(", ", candidates));
        // NuGet extracts files without the execute bit on some systems.
        var mode = File.GetUnixFileMode(found);
        if (!mode.HasFlag(UnixFileMode.UserExecute))
            File.SetUnixFileMode(found, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        return found;
    }
}

/// <summary>The resources a deployment of main.bicep would create, as `bicep snapshot` predicts them.</summary>
public sealed class Snapshot(JsonObject document, ToolRun run)
{
    public ToolRun Run { get; } = run;

    public IReadOnlyList<JsonObject> Resources { get; } =
        document["predictedResources"]!.AsArray().Select(r => r!.AsObject()).ToList();

    public JsonArray Diagnostics => document["diagnostics"]!.AsArray();

    public IReadOnlyList<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase)).ToList();

    public JsonObject Single(string type, Func<JsonObject, bool>? where = null)
    {
        var matches = OfType(type).Where(where ?? (_ => true)).ToList();
        Assert.True(matches.Count == 1, $"expected one {type}, found {matches.Count}");
        return matches[0];
    }

    public JsonObject? TaggedService(string azdService) =>
        Resources.SingleOrDefault(r => (string?)r["tags"]?["azd-service-name"] == azdService);
}
