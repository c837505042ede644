using MoeFunctions.Detection;

namespace MoeFunctions.TestSupport;

/// <summary>models/default as the build copies it next to the test binaries (through the Cli or App reference).</summary>
public static class ShippedBundle
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "models", "default");

    public static string Expert(string domain) => Path.Combine(Folder, $"expert-{domain}.onnx");

    /// <summary>Copies the shipped bundle into <paramref name="dir"/> (a new temp folder when null); <paramref name="withoutInt8"/>
    /// drops its INT8 calibration, as `moe bundle` writes a manifest. Returns the folder.</summary>
    public static string CopyTo(string? dir = null, bool withoutInt8 = false)
    {
        dir ??= Directory.CreateTempSubdirectory("moe-bundle-").FullName;
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Folder)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        if (withoutInt8)
        {
            var m = ModelBundle.Load(dir).Manifest;
            BundleWriter.WriteManifest(dir, m with { Experts = m.Experts.Select(e => e with { Int8 = null }).ToList() });
        }
        return dir;
    }
}
