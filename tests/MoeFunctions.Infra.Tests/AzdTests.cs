using System.Text.Json.Nodes;
using MoeFunctions.Infra.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace MoeFunctions.Infra.Tests;

/// <summary>azure.yaml and infra/main.parameters.json agree with main.bicep and the files they point to.</summary>
public class AzdTests
{
    static YamlMappingNode AzureYaml()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Repo.PathOf("azure.yaml"))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    static string Scalar(YamlNode node, params string[] path)
    {
        foreach (var key in path) node = ((YamlMappingNode)node)[key];
        return ((YamlScalarNode)node).Value!;
    }

    [Fact]
    public void Azure_yaml_deploys_ingest_as_a_function_and_score_as_a_container_app_from_its_dockerfile()
    {
        var services = (YamlMappingNode)AzureYaml()["services"];
        Assert.Equal("function", Scalar(services, "ingest", "host"));
        Assert.Equal("containerapp", Scalar(services, "score", "host"));

        var project = Scalar(services, "score", "project");
        var dockerfile = Path.GetFullPath(Path.Combine(Repo.Root, project, Scalar(services, "score", "docker", "path")));
        Assert.Equal(Path.Combine(Repo.Infra, "docker", "score.Dockerfile"), dockerfile);
        Assert.Equal(Repo.Root.TrimEnd('/'), Path.GetFullPath(Path.Combine(Repo.Root, project, Scalar(services, "score", "docker", "context"))).TrimEnd('/'));
        Assert.True(Directory.Exists(Repo.PathOf(Scalar(services, "ingest", "project"))));
    }

    [Fact]
    public void Azure_yaml_points_at_main_bicep_and_the_phase_two_hook()
    {
        var root = AzureYaml();
        Assert.True(File.Exists(Path.Combine(Repo.Root, Scalar(root, "infra", "path"), Scalar(root, "infra", "module") + ".bicep")));
        var hook = Scalar(root, "hooks", "postdeploy", "posix", "run");
        var script = Repo.PathOf(hook);
        Assert.True(File.Exists(script), hook);
        Assert.True(File.GetUnixFileMode(script).HasFlag(UnixFileMode.UserExecute), $"{hook} is not executable");
        // The hook deploys the subscription module with the names main.bicep outputs.
        var text = File.ReadAllText(script);
        Assert.Contains("modules/uploadsSubscription.bicep", text);
        var main = File.ReadAllText(Path.Combine(Repo.Infra, "main.bicep"));
        foreach (var output in new[] { "AZURE_RESOURCE_GROUP", "INGEST_APP_NAME", "EVENT_GRID_TOPIC", "UPLOADS_CONTAINER", "INGEST_EVENTGRID_FUNCTION" })
        {
            Assert.Contains($"${{{output}", text);
            Assert.Contains($"output {output} ", main);
        }
    }

    [Fact]
    public void Hook_passes_every_parameter_of_the_subscription_module()
    {
        var script = File.ReadAllText(Path.Combine(Repo.Infra, "scripts", "subscribe-uploads.sh"));
        var moduleParams = File.ReadAllLines(Path.Combine(Repo.Infra, "modules", "uploadsSubscription.bicep"))
            .Where(l => l.StartsWith("param ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[1])
            .ToList();
        Assert.NotEmpty(moduleParams);
        foreach (var name in moduleParams)
            Assert.Contains($"{name}=", script);
    }

    [Fact]
    public void Hook_script_is_valid_posix_shell()
    {
        var run = Tool.Run("sh", ["-n", Path.Combine(Repo.Infra, "scripts", "subscribe-uploads.sh")]);
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    [Fact]
    public void Parameters_file_names_only_parameters_main_bicep_declares_and_covers_the_required_ones()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Infra, "main.parameters.json")))!["parameters"]!.AsObject();
        var main = File.ReadAllLines(Path.Combine(Repo.Infra, "main.bicep"));
        var declared = main.Where(l => l.StartsWith("param ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[1])
            .ToDictionary(n => n, n => main.Single(l => l.StartsWith($"param {n} ", StringComparison.Ordinal)).Contains(" = "));
        foreach (var (name, _) in parameters)
            Assert.True(declared.ContainsKey(name), $"main.parameters.json sets {name}, which main.bicep does not declare");
        foreach (var (name, hasDefault) in declared)
            Assert.True(hasDefault || parameters.ContainsKey(name), $"required parameter {name} missing from main.parameters.json");
    }
}
