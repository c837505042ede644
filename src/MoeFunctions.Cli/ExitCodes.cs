namespace MoeFunctions.Cli;

/// <summary>
/// Exit codes of `moe scan` (docs/cli.md). When several apply, the highest-priority wins:
/// UsageError (nothing was scanned) > FakesFound (with --fail-on-fake) > SomeFailed > Ok.
/// </summary>
public static class ExitCodes
{
    /// <summary>Every file was scanned (verdicts of any kind, NotApplicable and untrained included).</summary>
    public const int Ok = 0;
    /// <summary>At least one file ended Failed (could not be read, decoded or scored); the others were scanned.</summary>
    public const int SomeFailed = 1;
    /// <summary>Bad arguments, no input files, an unusable output path, or a model bundle that cannot be loaded: nothing was scanned.</summary>
    public const int UsageError = 2;
    /// <summary>--fail-on-fake was given and at least one file's verdict is Fake.</summary>
    public const int FakesFound = 3;
    /// <summary>Interrupted (Ctrl+C).</summary>
    public const int Cancelled = 130;

    public const string HelpText =
        "Exit codes: 0 all files scanned; 1 some files Failed; 2 usage or model error (nothing scanned); " +
        "3 fakes found with --fail-on-fake (takes precedence over 1); 130 interrupted.";
}
