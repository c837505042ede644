using System.Text.Json.Nodes;
using MoeFunctions.Infra.Tests.Support;

namespace MoeFunctions.Infra.Tests;

/// <summary>bicep build and lint of infra/ with infra/bicepconfig.json: no errors and no warnings.</summary>
public class BicepLintTests
{
    /// <summary>One bicep process for every file: the CLI takes seconds to start.</summary>
    [Fact]
    public void Lint_of_every_bicep_file_reports_nothing()
    {
        var files = Directory.GetFiles(Repo.Infra, "*.bicep", SearchOption.AllDirectories);
        Assert.True(files.Length >= 10, $"expected main.bicep and its modules, found {files.Length}");
        var run = Tool.Run(Bicep.Executable, ["lint", "--no-restore", "--pattern", "**/*.bicep"], workingDirectory: Repo.Infra);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(run.Output.Trim().Length == 0, $"bicep lint printed diagnostics:\n{run.Output}");
    }

    /// <summary>Every module is reached from main.bicep, so building main type-checks them all.</summary>
    [Fact]
    public void Every_module_is_used_by_main()
    {
        var main = File.ReadAllText(Path.Combine(Repo.Infra, "main.bicep"));
        foreach (var module in Directory.GetFiles(Path.Combine(Repo.Infra, "modules"), "*.bicep"))
            Assert.Contains($"'modules/{Path.GetFileName(module)}'", main);
    }

    [Fact]
    public void Main_builds_to_an_arm_template_without_diagnostics()
    {
        var outDir = Directory.CreateTempSubdirectory("moe-bicep-build-");
        try
        {
            var outFile = Path.Combine(outDir.FullName, "main.json");
            var run = Bicep.Run("build", Path.Combine(Repo.Infra, "main.bicep"), "--outfile", outFile);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.True(run.Output.Trim().Length == 0, $"bicep build printed diagnostics:\n{run.Output}");

            var template = JsonNode.Parse(File.ReadAllText(outFile))!;
            Assert.Contains("subscriptionDeploymentTemplate", template["$schema"]!.GetValue<string>());
            Assert.NotEmpty(template["resources"]!.AsObject());
        }
        finally
        {
            outDir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("no-hardcoded-env-urls")]
    [InlineData("secure-secrets-in-params")]
    [InlineData("outputs-should-not-contain-secrets")]
    [InlineData("use-secure-value-for-secure-inputs")]
    [InlineData("no-unused-params")]
    [InlineData("no-unused-vars")]
    [InlineData("prefer-interpolation")]
    [InlineData("use-resource-id-functions")]
    [InlineData("no-hardcoded-location")]
    [InlineData("use-resource-symbol-reference")]
    public void Bicepconfig_turns_the_rule_into_an_error(string rule)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Infra, "bicepconfig.json")))!;
        Assert.Equal("error", (string?)config["analyzers"]?["core"]?["rules"]?[rule]?["level"]);
    }

    /// <summary>The config must really apply: a template breaking the rules fails lint with those rule ids.</summary>
    [Fact]
    public void Lint_with_the_repository_config_fails_a_template_that_breaks_the_rules()
    {
        var scratch = Directory.CreateTempSubdirectory("moe-bicep-bad-");
        try
        {
            File.Copy(Path.Combine(Repo.Infra, "bicepconfig.json"), Path.Combine(scratch.FullName, "bicepconfig.json"));
            var bad = Path.Combine(scratch.FullName, "bad.bicep");
            File.WriteAllText(bad, """
                param unused string
                param adminPassword string = 'not-secure'
                var portal = 'https://management.azure.com/x'
                output password string = adminPassword
                output url string = concat(portal, '/y')
                """);
            var run = Bicep.Run("lint", bad);
            Assert.NotEqual(0, run.ExitCode);
            foreach (var rule in new[] { "no-unused-params", "no-hardcoded-env-urls", "secure-secrets-in-params",
                                         "outputs-should-not-contain-secrets", "prefer-interpolation" })
                Assert.Contains($"Error {rule}", run.Output);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
