namespace MoeFunctions.TestSupport;

/// <summary>The checkout the tests run from.</summary>
public static class Repository
{
    /// <summary>The folder holding MoeFunctions.sln above the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MoeFunctions.sln"))) return dir.FullName;
        throw new InvalidOperationException("MoeFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
