using MoeFunctions.Scanning.Pipeline;

namespace MoeFunctions.Scanning.Tests.Local;

public sealed class ScanIdsTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-scanids");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SameFileSameIdAndAChangedFileANewOne()
    {
        var path = _dir.File("a.wav");
        File.WriteAllText(path, "one");
        var first = ScanIds.ForLocalFile(new FileInfo(path));
        Assert.Equal(first, ScanIds.ForLocalFile(new FileInfo(path)));
        Assert.Matches("^[0-9a-f]{16}$", first);

        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-5));
        Assert.NotEqual(first, ScanIds.ForLocalFile(new FileInfo(path)));

        var copy = _dir.File("b.wav");
        File.Copy(path, copy);
        File.SetLastWriteTimeUtc(copy, File.GetLastWriteTimeUtc(path));
        Assert.NotEqual(ScanIds.ForLocalFile(new FileInfo(path)), ScanIds.ForLocalFile(new FileInfo(copy)));
    }

    [Fact]
    public void PartsAreNotAmbiguousWhenJoined()
    {
        Assert.NotEqual(ScanIds.FromParts("ab", "c"), ScanIds.FromParts("a", "bc"));
        Assert.Equal(ScanIds.ForBlob("uploads", "x.wav", "\"0x8D\""), ScanIds.ForBlob("uploads", "x.wav", "0x8D"));
    }
}
