using MoeFunctions.Scanning.Contracts;

namespace MoeFunctions.Scanning.Pipeline;

/// <summary>One thing to scan: its id, where it came from (recorded in the result), and how to open its bytes.</summary>
public sealed record ScanInput(string ScanId, ScanSource Source, Func<Stream> Open)
{
    /// <summary>A local file; the id follows <see cref="ScanIds.ForLocalFile(FileInfo)"/>.</summary>
    public static ScanInput ForLocalFile(string path)
    {
        var file = new FileInfo(Path.GetFullPath(path));
        return new ScanInput(ScanIds.ForLocalFile(file), new ScanSource { Path = file.FullName, Bytes = file.Length },
            () => new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan));
    }

    /// <summary>Display name: the path, or container/name for a blob.</summary>
    public string DisplayName => Source.Path ?? $"{Source.Container}/{Source.Name}";
}

/// <summary>Where a running scan stands. Audio seconds count decoded audio, so the rate is audio processed per wall second.</summary>
public sealed record ScanProgress(int FilesDone, int FilesTotal, int FilesFailed, double AudioSecondsDone, int WindowsScored, TimeSpan Elapsed)
{
    /// <summary>Audio hours scanned per wall-clock second.</summary>
    public double AudioHoursPerSecond => Elapsed.TotalSeconds > 0 ? AudioSecondsDone / 3600.0 / Elapsed.TotalSeconds : 0;
}

/// <summary>A finished file: its position in the input list, the input, and its result.</summary>
public sealed record ScannedFile(int Index, ScanInput Input, ScanResult Result);
