using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MoeFunctions.Reliability.Tests;

/// <summary>
/// Finds credentials in text: storage account keys, Service Bus / Event Hubs shared access keys, SAS signatures and
/// PEM private keys. Azurite's published development key is allowed; placeholders (anything that is not a long
/// base64 value, e.g. SAS_KEY_VALUE or &lt;key&gt;) are not secrets.
/// </summary>
public static partial class SecretScanner
{
    /// <summary>Azurite's well-known development account key (public, documented by Microsoft).</summary>
    public const string AzuriteKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [GeneratedRegex(@"(AccountKey|SharedAccessKey|AccessKey|PrimaryKey|SecondaryKey)\s*=\s*([A-Za-z0-9+/]{20,}={0,2})", RegexOptions.IgnoreCase)]
    private static partial Regex KeyRegex();

    [GeneratedRegex(@"[?&]sig=([A-Za-z0-9%+/]{20,}(?:%3D|=){0,2})", RegexOptions.IgnoreCase)]
    private static partial Regex SasRegex();

    [GeneratedRegex(@"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----")]
    private static partial Regex PemRegex();

    /// <summary>Long base64 values assigned to key-like names in JSON/YAML/Bicep (e.g. "accountKey": "...").</summary>
    [GeneratedRegex(@"""?(?:account|storage|shared|access|primary)_?key""?\s*[:=]\s*['""]([A-Za-z0-9+/]{40,}={0,2})['""]", RegexOptions.IgnoreCase)]
    private static partial Regex AssignedKeyRegex();

    public static IEnumerable<string> Find(string text)
    {
        foreach (Match m in KeyRegex().Matches(text))
            if (m.Groups[2].Value != AzuriteKey) yield return $"{m.Groups[1].Value}=<{m.Groups[2].Length} chars>";
        foreach (Match m in AssignedKeyRegex().Matches(text))
            if (m.Groups[1].Value != AzuriteKey) yield return $"assigned key <{m.Groups[1].Length} chars>";
        foreach (Match m in SasRegex().Matches(text)) yield return $"SAS sig=<{m.Groups[1].Length} chars>";
        foreach (Match m in PemRegex().Matches(text)) yield return m.Value;
    }

    public static IReadOnlyList<string> TrackedFiles(string root)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "ls-files", "-z" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string all = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException("git ls-files failed");
        return all.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }
}
