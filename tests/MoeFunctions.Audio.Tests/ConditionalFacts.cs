namespace MoeFunctions.Audio.Tests;

/// <summary>../shared/data next to the repository (or MOE_SHARED_DATA): real recordings read in place, never copied.</summary>
internal static class SharedData
{
    public static string? Directory { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("MOE_SHARED_DATA") is { Length: > 0 } env) return System.IO.Directory.Exists(env) ? env : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (File.Exists(Path.Combine(candidate, "manifest.csv"))) return candidate;
        }
        return null;
    }
}

/// <summary>A fact that is reported as skipped, not passed, where ../shared/data is absent.</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute()
    {
        if (SharedData.Directory is null) Skip = "../shared/data (or MOE_SHARED_DATA) is absent";
    }
}

/// <summary>A measurement run on demand: reported as skipped unless the environment variable names its input.</summary>
public sealed class EnvironmentFactAttribute : FactAttribute
{
    public EnvironmentFactAttribute(string variable)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable))) Skip = $"set {variable} to run it";
    }
}
