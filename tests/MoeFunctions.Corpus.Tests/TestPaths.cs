namespace MoeFunctions.Corpus.Tests;

static class TestPaths
{
    /// <summary>../shared/data next to the repository (or MOE_SHARED_DATA), as issue 3 expects.</summary>
    public static string SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MOE_SHARED_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (File.Exists(Path.Combine(candidate, "manifest.csv"))) return candidate;
            }
            throw new InvalidOperationException("shared/data not found: set MOE_SHARED_DATA to the folder with manifest.csv");
        }
    }

    public static string NewTempDir(string name)
    {
        var d = Path.Combine(Path.GetTempPath(), $"moe-corpus-test-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        return d;
    }
}
