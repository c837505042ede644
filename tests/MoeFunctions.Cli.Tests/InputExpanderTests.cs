using MoeFunctions.Cli.Commands.Scan;
using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests;

public sealed class InputExpanderTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-cli-inputs");

    public void Dispose() => _dir.Dispose();

    private string Touch(string relative)
    {
        var path = _dir.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "x");
        return path;
    }

    [Fact]
    public void FoldersRecurseAndKeepMediaExtensionsOnly()
    {
        var a = Touch("set/a.wav");
        var b = Touch("set/deep/er/b.MP3");
        Touch("set/notes.txt");
        Touch("set/deep/results.json");

        var e = InputExpander.Expand([_dir.File("set")]);
        Assert.Empty(e.Errors);
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), e.Files);

        var all = InputExpander.Expand([_dir.File("set")], allFiles: true);
        Assert.Equal(4, all.Files.Count);
    }

    [Fact]
    public void ExplicitFilesAreTakenWhateverTheirExtension()
    {
        var t = Touch("readme.txt");
        var e = InputExpander.Expand([t]);
        Assert.Equal([t], e.Files);
    }

    [Fact]
    public void GlobsMatchStarAndDoubleStar()
    {
        var a = Touch("g/a.wav");
        var b = Touch("g/sub/b.wav");
        Touch("g/sub/c.mp3");

        Assert.Equal([a], InputExpander.Expand([_dir.File("g") + "/*.wav"]).Files);
        Assert.Equal(new[] { a, b }.Order(StringComparer.Ordinal), InputExpander.Expand([_dir.File("g") + "/**/*.wav"]).Files);
    }

    [Fact]
    public void DuplicatesAreScannedOnceInFirstPosition()
    {
        var a = Touch("d/a.wav");
        var b = Touch("d/b.wav");
        var e = InputExpander.Expand([b, _dir.File("d"), a, _dir.File("d") + "/*.wav"]);
        Assert.Equal([b, a], e.Files);
    }

    [Fact]
    public void MissingPathsAreErrorsAndEmptyMatchesWarnings()
    {
        Directory.CreateDirectory(_dir.File("empty"));
        var e = InputExpander.Expand([_dir.File("missing.wav"), _dir.File("empty"), _dir.File("empty") + "/*.wav"]);
        Assert.Single(e.Errors);
        Assert.Contains("missing.wav", e.Errors[0]);
        Assert.Equal(2, e.Warnings.Count);
        Assert.Empty(e.Files);
    }
}
