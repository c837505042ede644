using System.Text.RegularExpressions;
using MoeFunctions.Infra.Tests.Support;

namespace MoeFunctions.Infra.Tests;

/// <summary>The two images: Functions .NET 10 isolated base, the app published from source, non-root, the bundle inside.</summary>
public class DockerfileTests
{
    public static TheoryData<string> Dockerfiles() => new() { "score.Dockerfile", "ingest.Dockerfile" };

    /// <summary>Instructions of a Dockerfile with continuation lines joined and comments dropped.</summary>
    static List<(string Op, string Args)> Instructions(string file)
    {
        var text = File.ReadAllText(Path.Combine(Repo.Infra, "docker", file));
        var joined = Regex.Replace(text, @"\\\r?\n", " ");
        return joined.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => { var i = l.IndexOf(' '); return (l[..i].ToUpperInvariant(), l[(i + 1)..].Trim()); })
            .ToList();
    }

    static List<(string Op, string Args)> FinalStage(string file)
    {
        var all = Instructions(file);
        var lastFrom = all.FindLastIndex(i => i.Op == "FROM");
        return all[lastFrom..];
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Final_stage_runs_as_a_non_root_user(string file)
    {
        var stage = FinalStage(file);
        var lastUser = stage.FindLastIndex(i => i.Op == "USER");
        Assert.True(lastUser >= 0, $"{file}: no USER in the final stage");
        var user = stage[lastUser].Args.Split(':')[0];
        Assert.NotEqual("root", user);
        Assert.NotEqual("0", user);
        // Nothing after the switch runs as root again.
        Assert.DoesNotContain(stage[(lastUser + 1)..], i => i.Op is "RUN" or "USER");
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Image_builds_on_the_functions_dotnet_isolated_10_base_and_publishes_the_app(string file)
    {
        var all = Instructions(file);
        var arg = all.Single(i => i.Op == "ARG" && i.Args.StartsWith("FUNCTIONS_IMAGE=", StringComparison.Ordinal));
        Assert.Equal("FUNCTIONS_IMAGE=mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0", arg.Args);
        Assert.Equal("${FUNCTIONS_IMAGE}", FinalStage(file)[0].Args);
        Assert.Contains(all, i => i.Op == "RUN" && i.Args.Contains("dotnet publish src/MoeFunctions.App -c Release"));
        Assert.True(File.Exists(Repo.PathOf("src", "MoeFunctions.App", "MoeFunctions.App.csproj")));
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Image_carries_the_model_bundle_where_the_app_looks_for_it(string file)
    {
        var stage = FinalStage(file);
        var workdir = stage.Last(i => i.Op == "WORKDIR").Args;
        Assert.Equal("/home/site/wwwroot", workdir);
        var modelPath = SampleSettings.Values["Moe__ModelPath"];
        Assert.Contains(stage, i => i.Op == "COPY" && i.Args == $"{modelPath} ./{modelPath}");
        // The app project ships the same folder in its publish output.
        var csproj = File.ReadAllText(Repo.PathOf("src", "MoeFunctions.App", "MoeFunctions.App.csproj"));
        Assert.Contains(modelPath.Replace('/', '\\'), csproj);
    }

    [Fact]
    public void Score_image_installs_the_cuda_13_and_cudnn_9_libraries_onnx_runtime_needs()
    {
        var install = string.Join(' ', FinalStage("score.Dockerfile").Where(i => i.Op == "RUN").Select(i => i.Args));
        Assert.Contains("CUDA_PACKAGE_VERSION=13-0", string.Join(' ', Instructions("score.Dockerfile").Where(i => i.Op == "ARG").Select(i => i.Args)));
        foreach (var package in new[] { "cuda-cudart-${CUDA_PACKAGE_VERSION}", "libcublas-${CUDA_PACKAGE_VERSION}",
                                        "libcufft-${CUDA_PACKAGE_VERSION}", "libcurand-${CUDA_PACKAGE_VERSION}", "libcudnn9-cuda-13" })
            Assert.Contains(package, install);
        Assert.Contains("developer.download.nvidia.com/compute/cuda/repos/", install);
    }

    [Fact]
    public void Ingest_image_installs_ffmpeg_for_video_containers()
    {
        var install = string.Join(' ', FinalStage("ingest.Dockerfile").Where(i => i.Op == "RUN").Select(i => i.Args));
        Assert.Matches(@"apt-get install[^;&]*\bffmpeg\b", install);
    }

    [Theory]
    [MemberData(nameof(Dockerfiles))]
    public void Host_port_matches_the_container_app_ingress(string file)
    {
        var stage = FinalStage(file);
        Assert.Contains(stage, i => i.Op == "EXPOSE" && i.Args == "8080");
        Assert.Contains(stage, i => i.Op == "ENV" && i.Args.Contains("ASPNETCORE_URLS=http://+:8080"));
        Assert.Contains("targetPort: 8080", File.ReadAllText(Path.Combine(Repo.Infra, "modules", "functionContainerApp.bicep")));
    }
}
