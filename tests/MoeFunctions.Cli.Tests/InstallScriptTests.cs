using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Tests.Local;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Cli.Tests;

/// <summary>scripts/install.sh for real: a ReadyToRun publish into a fresh prefix, then the installed `moe` scans with the
/// bundled model it carries (no --model).</summary>
public sealed class InstallScriptTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-install");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Install_puts_a_ReadyToRun_moe_with_the_bundled_model_on_prefix_bin()
    {
        var prefix = _dir.File("prefix");
        // A publish of the whole CLI: minutes on two cores, not the two a media tool gets.
        var output = Encoding.UTF8.GetString(MediaFiles.Run("bash", [Path.Combine(Repository.Root, "scripts", "install.sh"), prefix], TimeSpan.FromMinutes(10)));
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
        MediaFiles.Run(moe, ["scan", wav, "--quiet", "--json", json]);
        var result = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!.Single();
        Assert.True(result.Model.Trained);
        Assert.Equal(ModelBundle.Load(ShippedBundle.Folder).Manifest.Version, result.Model.Version);
        Assert.Equal("int8", result.Model.Precision); // the bundled model is calibrated, so the CPU default is INT8
        Assert.Equal(Verdict.Fake, result.Verdict);
    }
}
