namespace MoeFunctions.Cli.Commands.Scan;

/// <summary>Where the model bundle is: --model, else models/default next to the executable, else ./models/default.</summary>
public static class ModelLocator
{
    public const string ManifestFile = "moe.json";

    public static IReadOnlyList<string> Candidates(string? option) => option is not null
        ? [Path.GetFullPath(option)]
        : [Path.Combine(AppContext.BaseDirectory, "models", "default"), Path.GetFullPath(Path.Combine("models", "default"))];

    /// <summary>The first candidate holding a moe.json, or null (the caller names every place it looked).</summary>
    public static string? Find(string? option) =>
        Candidates(option).FirstOrDefault(dir => File.Exists(Path.Combine(dir, ManifestFile)));
}
