using MoeFunctions.Cli.Commands.Scan;
using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests;

/// <summary>Arguments the scan refuses before loading a model: each must exit 2 with a message naming the problem.</summary>
public sealed class UsageTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-cli-usage");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task MissingPathIsAUsageError()
    {
        var missing = _dir.File("nope.wav");
        var run = await CliRunner.RunAsync("scan", missing);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains($"no such file or folder: {missing}", run.Output);
    }

    [Fact]
    public async Task NoArgumentsIsAUsageError()
    {
        var run = await CliRunner.RunAsync("scan");
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("PATH", run.Output);
    }

    [Theory]
    [InlineData("--threshold", "1.5", "--threshold")]
    [InlineData("--threshold", "0", "--threshold")]
    [InlineData("--top-k", "0", "--top-k")]
    [InlineData("--hop", "0.01", "--hop")]
    [InlineData("--hop", "5", "--hop")]
    [InlineData("--mode", "bogus", "bogus")]
    [InlineData("--device", "tpu", "tpu")]
    [InlineData("--precision", "fp8", "fp8")]
    public async Task OutOfRangeOptionsAreUsageErrors(string option, string value, string mentioned)
    {
        var file = _dir.File("a.wav");
        File.WriteAllText(file, "x");
        var run = await CliRunner.RunAsync("scan", file, option, value);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains(mentioned, run.Output);
    }

    [Fact]
    public async Task UnknownOptionIsAUsageError()
    {
        var file = _dir.File("a.wav");
        File.WriteAllText(file, "x");
        var run = await CliRunner.RunAsync("scan", file, "--no-such-option");
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("no-such-option", run.Output);
    }

    [Fact]
    public async Task MissingModelFolderIsAModelError()
    {
        var file = _dir.File("a.wav");
        File.WriteAllText(file, "x");
        var empty = Directory.CreateDirectory(Path.Combine(_dir.Path, "empty-model")).FullName;
        var run = await CliRunner.RunAsync("scan", file, "--model", empty);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("no model bundle", run.Output);
        Assert.Contains(empty, run.Output);
    }

    [Fact]
    public async Task AnOutputThatIsAnInputIsRefused()
    {
        var file = _dir.File("a.wav");
        File.WriteAllText(file, "x");
        var run = await CliRunner.RunAsync("scan", file, "--json", file);
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("refusing to overwrite", run.Output);
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public async Task TwoOutputsOnOneFileAreRefused()
    {
        var file = _dir.File("a.wav");
        File.WriteAllText(file, "x");
        var run = await CliRunner.RunAsync("scan", file, "--json", _dir.File("out"), "--csv", _dir.File("out"));
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("different files", run.Output);
    }

    [Fact]
    public async Task HelpListsTheExitCodes()
    {
        var run = await CliRunner.RunAsync("scan", "--help");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Exit codes", run.Output);
        Assert.Contains("--fail-on-fake", run.Output);
        Assert.Contains("--jsonl", run.Output);
    }

    [Fact]
    public async Task JointTrainingRefusesTheRoutingLoss()
    {
        var run = await CliRunner.RunAsync("train", "gate", "--kind", "classic", "--experts", "models/default", "--corpus", _dir.Path,
            "--out", _dir.File("joint"), "--train-experts", "--routing-loss", "1");
        Assert.Equal(ExitCodes.UsageError, run.ExitCode);
        Assert.Contains("--train-experts trains on the mixture loss only", run.Output);
        Assert.False(Directory.Exists(_dir.File("joint")));
    }

    // Option descriptions are Spectre markup: an unescaped "[]" made `moe quantize --help` exit 2 with
    // "Could not find color or style".
    [Theory]
    [InlineData("scan")]
    [InlineData("corpus", "build")]
    [InlineData("corpus", "audit")]
    [InlineData("train", "expert")]
    [InlineData("train", "gate")]
    [InlineData("eval")]
    [InlineData("quantize")]
    [InlineData("bundle")]
    public async Task EveryCommandPrintsItsHelp(params string[] command)
    {
        var run = await CliRunner.RunAsync([.. command, "--help"]);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("OPTIONS:", run.Output);
        Assert.DoesNotContain("error:", run.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(0, 0, false, ExitCodes.Ok)]
    [InlineData(2, 0, false, ExitCodes.SomeFailed)]
    [InlineData(0, 3, false, ExitCodes.Ok)]
    [InlineData(0, 3, true, ExitCodes.FakesFound)]
    [InlineData(1, 1, true, ExitCodes.FakesFound)]
    [InlineData(1, 0, true, ExitCodes.SomeFailed)]
    public void ExitCodePrecedence(int failed, int fakes, bool failOnFake, int expected) =>
        Assert.Equal(expected, ScanCommand.ExitCodeFor(failed, fakes, failOnFake));
}
