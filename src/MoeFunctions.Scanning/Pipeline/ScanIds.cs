using System.Security.Cryptography;
using System.Text;

namespace MoeFunctions.Scanning.Pipeline;

/// <summary>
/// Scan ids: a short hex digest of what identifies one version of one input, so scanning the same bytes twice
/// gives the same id and a changed file gets a new one.
/// </summary>
public static class ScanIds
{
    /// <summary>Hex characters kept from the SHA-256 (64 bits: collisions are negligible for any real archive).</summary>
    public const int Length = 16;

    /// <summary>Local file: full path + size + last-write time (UTC ticks).</summary>
    public static string ForLocalFile(string fullPath, long size, DateTime lastWriteUtc) =>
        FromParts("file", Path.GetFullPath(fullPath), size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            lastWriteUtc.ToUniversalTime().Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string ForLocalFile(FileInfo file) => ForLocalFile(file.FullName, file.Length, file.LastWriteTimeUtc);

    /// <summary>Blob: container + name + ETag (the cloud's idempotency key).</summary>
    public static string ForBlob(string container, string name, string etag) =>
        FromParts("blob", container, name, etag.Trim('"'));

    /// <summary>SHA-256 over the parts joined by NUL (no part can contain NUL in a path or blob name, so joins are unambiguous).</summary>
    public static string FromParts(params string[] parts)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Join('\0', parts));
        return Convert.ToHexStringLower(SHA256.HashData(bytes))[..Length];
    }
}
