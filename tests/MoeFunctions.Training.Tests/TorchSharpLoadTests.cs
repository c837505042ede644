using static TorchSharp.torch;

namespace MoeFunctions.Training.Tests;

public class TorchSharpLoadTests
{
    [Fact]
    public void TensorOpRunsWithTheBuildOutputsLibrary()
    {
        // Fails with a DllNotFoundException/TypeInitializationException when libLibTorchSharp.so cannot be loaded
        // (GLIBCXX_3.4.32 missing and the build did not patch the copy).
        var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        var product = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, product.data<float>().ToArray());
    }

    [Fact]
    public void OutputCopyIsPatchedOnlyWhereTheSystemLacksTheVersion()
    {
        var library = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
        // The same first candidate the build target uses on Debian/Ubuntu x64.
        var system = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        Assert.True(File.Exists(system), "this test expects a Debian-style system libstdc++");
        bool systemHas = ElfVersions.Defines(File.ReadAllBytes(system), "GLIBCXX_3.4.32");
        bool weak = ElfVersions.IsWeakNeed(File.ReadAllBytes(library), "GLIBCXX_3.4.32");
        Assert.Equal(!systemHas, weak);
    }
}
