using System.Text.Json.Nodes;
using MoeFunctions.Infra.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace MoeFunctions.Infra.Tests;

/// <summary>infra/local: the compose file passes dclint (Compose schema + style) and declares the same queue.</summary>
public class ComposeTests
{
    static string ComposeFile => Path.Combine(Repo.Infra, "local", "docker-compose.yml");

    /// <summary>dclint from the repo's node_modules (scripts/setup.sh installs scripts/deps/*.npm), else PATH.</summary>
    static string Dclint()
    {
        var local = Repo.PathOf("node_modules", ".bin", "dclint");
        if (File.Exists(local)) return local;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "dclint");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("dclint not found in node_modules/.bin or PATH: run scripts/setup.sh (scripts/deps/infra.npm)");
    }

    static JsonObject Lint(string file)
    {
        var run = Tool.Run(Dclint(), [file, "--formatter", "json", "--max-warnings", "0", "--color", "false"]);
        var report = JsonNode.Parse(run.StdOut.Trim().Length == 0 ? "[]" : run.StdOut)!.AsArray();
        var result = new JsonObject { ["exit"] = run.ExitCode, ["errors"] = 0, ["warnings"] = 0, ["messages"] = new JsonArray(), ["raw"] = run.ToString() };
        foreach (var entry in report)
        {
            result["errors"] = (int)result["errors"]! + (int)entry!["errorCount"]!;
            result["warnings"] = (int)result["warnings"]! + (int)entry["warningCount"]!;
            foreach (var m in entry["messages"]!.AsArray()) result["messages"]!.AsArray().Add((string?)m!["rule"]);
        }
        return result;
    }

    [Fact]
    public void Compose_file_passes_dclint_with_no_errors_or_warnings()
    {
        var result = Lint(ComposeFile);
        Assert.True((int)result["exit"]! == 0 && (int)result["errors"]! == 0 && (int)result["warnings"]! == 0, (string?)result["raw"]);
    }

    [Fact]
    public void Dclint_rejects_a_compose_file_that_breaks_the_schema()
    {
        var scratch = Directory.CreateTempSubdirectory("moe-compose-");
        try
        {
            var broken = Path.Combine(scratch.FullName, "docker-compose.yml");
            File.WriteAllText(broken, File.ReadAllText(ComposeFile).Replace("    image: mcr.microsoft.com/mssql", "    imag: mcr.microsoft.com/mssql"));
            var result = Lint(broken);
            Assert.NotEqual(0, (int)result["exit"]!);
            Assert.Contains("invalid-schema", result["messages"]!.AsArray().Select(m => (string?)m));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    static YamlMappingNode Services()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(ComposeFile)));
        return (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
    }

    [Fact]
    public void Compose_runs_azurite_and_the_service_bus_emulator_with_its_sql_server()
    {
        var services = Services();
        string Image(string service) => ((YamlScalarNode)((YamlMappingNode)services[service])["image"]).Value!;
        Assert.StartsWith("mcr.microsoft.com/azure-storage/azurite:", Image("azurite"));
        Assert.StartsWith("mcr.microsoft.com/azure-messaging/servicebus-emulator:", Image("servicebus"));
        Assert.StartsWith("mcr.microsoft.com/mssql/server:", Image("sqlserver"));

        var emulator = (YamlMappingNode)services["servicebus"];
        var env = (YamlMappingNode)emulator["environment"];
        Assert.Equal("sqlserver", ((YamlScalarNode)env["SQL_SERVER"]).Value);
        var mounts = ((YamlSequenceNode)emulator["volumes"]).Select(v => ((YamlScalarNode)v).Value!).ToList();
        Assert.Contains("./servicebus-config.json:/ServiceBus_Emulator/ConfigFiles/Config.json:ro", mounts);
        // No password in the file: it comes from the environment.
        Assert.Contains("${MSSQL_SA_PASSWORD", ((YamlScalarNode)env["MSSQL_SA_PASSWORD"]).Value);
    }

    [Fact]
    public void Emulator_config_declares_the_scan_results_queue_like_azure()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Infra, "local", "servicebus-config.json")))!;
        var ns = Assert.Single(config["UserConfig"]!["Namespaces"]!.AsArray())!;
        Assert.Equal("sbemulatorns", (string?)ns["Name"]);   // the only namespace name the emulator accepts
        var queue = Assert.Single(ns["Queues"]!.AsArray())!;
        Assert.Equal(SampleSettings.Values["Moe__ServiceBus__QueueName"], (string?)queue["Name"]);
        Assert.True((bool)queue["Properties"]!["RequiresDuplicateDetection"]!);
        Assert.True((bool)queue["Properties"]!["DeadLetteringOnMessageExpiration"]!);
    }
}
