using System.Diagnostics;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.TestSupport;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests;

/// <summary>scripts/install.sh for real: a ReadyToRun publish into a fresh prefix, then the installed `moe` scans with the
/// bundled model it carries (no --model) from outside the checkout.</summary>
public sealed class InstallScriptTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-install");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Install_puts_a_ReadyToRun_moe_with_the_bundled_model_on_prefix_bin()
    {
        var prefix = _dir.File("prefix");
        var (exit, output) = Run("bash", [Path.Combine(Repository.Root, "scripts", "install.sh"), prefix], _dir.Path);
        Assert.True(exit == 0, output);
        Assert.Contains($"installed {prefix}/bin/moe", output);

        var moe = Path.Combine(prefix, "bin", "moe");
        Assert.Equal(Path.Combine(prefix, "lib", "moe", "moe"), new FileInfo(moe).LinkTarget);
        // Ahead-of-time code: a ReadyToRun assembly carries a managed native header; a plain build does not.
        using (var pe = new PEReader(File.OpenRead(Path.Combine(prefix, "lib", "moe", "MoeFunctions.Audio.dll"))))
            Assert.True(pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.Size > 0, "MoeFunctions.Audio.dll is not ReadyToRun");
        Assert.False(Directory.Exists(Path.Combine(prefix, "lib", "moe.new")));

        // One of DefaultModelTests' espeak-ng sentences, which the shipped model calls Fake in FP32 and INT8.
        var wav = TestMedia.Speech(_dir.File("tts.wav"), "Thank you for calling. Please listen carefully, as our menu options have recently changed.", "en-us");
        var json = _dir.File("r.json");
        (exit, output) = Run(moe, ["scan", wav, "--quiet", "--json", json], Path.GetTempPath());
        Assert.True(exit == 0, output);
        var result = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!.Single();
        Assert.True(result.Model.Trained);
        Assert.Equal(ModelBundle.Load(ShippedBundle.Folder).Manifest.Version, result.Model.Version);
        Assert.Equal("int8", result.Model.Precision); // the bundled model is calibrated, so the CPU default is INT8
        Assert.Equal(Verdict.Fake, result.Verdict);
    }

    private static (int Exit, string Output) Run(string file, string[] args, string workingDirectory)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
