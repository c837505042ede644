using Microsoft.Extensions.FileSystemGlobbing;

namespace MoeFunctions.Cli.Commands.Scan;

/// <summary>
/// Turns the PATH arguments into a list of files: a file is taken as is (whatever its extension: decoding goes by content),
/// a folder is searched recursively for media extensions (or every file with allFiles), a pattern with * or ** is a glob.
/// Duplicates are dropped, keeping the first position.
/// </summary>
public static class InputExpander
{
    /// <summary>Extensions picked up in folders. Files named explicitly or by a glob are scanned whatever they are called.</summary>
    public static readonly IReadOnlySet<string> MediaExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".wav", ".wave", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".m4b", ".aac", ".mp4", ".m4v", ".mov", ".mkv",
        ".mka", ".webm", ".weba", ".amr", ".3gp", ".wma", ".wmv", ".aif", ".aiff", ".aifc", ".caf", ".au", ".snd", ".ac3",
        ".avi", ".mpg", ".mpeg", ".mp2", ".ts", ".spx",
    };

    public sealed record Expansion(IReadOnlyList<string> Files, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

    public static Expansion Expand(IEnumerable<string> args, bool allFiles = false)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var errors = new List<string>();
        var warnings = new List<string>();
        void Add(string f) { var full = Path.GetFullPath(f); if (seen.Add(full)) files.Add(full); }

        foreach (var arg in args)
        {
            if (File.Exists(arg)) Add(arg);
            else if (Directory.Exists(arg))
            {
                var found = Directory.EnumerateFiles(arg, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
                    .Where(f => allFiles || MediaExtensions.Contains(Path.GetExtension(f)))
                    .Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) warnings.Add($"folder {arg} holds no media files{(allFiles ? "" : " (--all-files scans every file)")}");
                found.ForEach(Add);
            }
            else if (arg.Contains('*'))
            {
                var found = Glob(arg);
                if (found.Count == 0) warnings.Add($"no files match {arg}");
                found.ForEach(Add);
            }
            else errors.Add($"no such file or folder: {arg}");
        }
        return new Expansion(files, errors, warnings);
    }

    /// <summary>Splits "a/b/**/*.wav" into the folder before the first wildcard segment ("a/b") and the pattern after it.</summary>
    public static List<string> Glob(string pattern)
    {
        var normalised = pattern.Replace('\\', '/');
        var segments = normalised.Split('/');
        var first = Array.FindIndex(segments, s => s.Contains('*'));
        var root = string.Join('/', segments[..first]);
        if (root.Length == 0) root = normalised.StartsWith('/') ? "/" : ".";
        if (!Directory.Exists(root)) return [];
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(string.Join('/', segments[first..]));
        return matcher.GetResultsInFullPath(root).Order(StringComparer.Ordinal).ToList();
    }
}
