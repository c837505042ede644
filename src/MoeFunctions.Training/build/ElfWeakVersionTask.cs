// netstandard2.0 C# without nullable annotations: compiled by MSBuild's RoslynCodeTaskFactory from TorchSharpGlibcxx.targets (not part of the Training assembly).
// TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32 (GCC 13) for one symbol,
// std::ios_base_library_init, which GCC 13 references only to force iostream initialisation. Debian 12's
// libstdc++ (GCC 12) lacks that version, so the loader refuses the library. When the system's libstdc++ does not
// define the version, this task marks that one requirement weak (VER_FLG_WEAK in the Vernaux entry of
// .gnu.version_r) in the COPY in the build/publish output; the loader then accepts the library.
using System;
using System.IO;
using System.Text;

#if !MOE_ELF_ONLY
public sealed class ElfWeakVersionTask : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public string Library { get; set; } = "";
    [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";
    /// <summary>libstdc++ candidates; the first that exists is the one the loader would take.</summary>
    [Microsoft.Build.Framework.Required] public string SystemLibraries { get; set; } = "";

    public override bool Execute()
    {
        if (!File.Exists(Library)) return true;
        string system = null;
        foreach (var candidate in SystemLibraries.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(candidate)) { system = candidate; break; }
        if (system == null) { Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "no system libstdc++ found; nothing to patch"); return true; }
        try
        {
            if (ElfVersions.Defines(File.ReadAllBytes(system), Version))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"{system} defines {Version}; {Library} left as is");
                return true;
            }
            var bytes = File.ReadAllBytes(Library);
            var state = ElfVersions.MarkWeak(bytes, Version);
            if (state == "patched")
            {
                // Write a new file and move it over, so a hard link into the package cache is never modified.
                var temp = Library + ".moe-tmp";
                File.WriteAllBytes(temp, bytes);
                File.Delete(Library);
                File.Move(temp, Library);
            }
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, $"{Path.GetFileName(Library)}: {Version} requirement {state} (system {system} lacks it)");
            return true;
        }
        catch (Exception e)
        {
            Log.LogWarning($"could not patch {Library}: {e.Message}");
            return true;
        }
    }

}
#endif

/// <summary>Reads and edits the GNU symbol-version sections of a 64-bit little-endian ELF file.</summary>
public static class ElfVersions
{
    private const ushort VerFlgWeak = 0x2;
    private const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe;

    private sealed class Section { public uint Type, Link; public long Offset, Size; public uint Info; }

    private static Section[] Sections(byte[] b)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        long shoff = BitConverter.ToInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        var result = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            int o = checked((int)(shoff + (long)i * shentsize));
            result[i] = new Section
            {
                Type = BitConverter.ToUInt32(b, o + 4), Offset = BitConverter.ToInt64(b, o + 0x18),
                Size = BitConverter.ToInt64(b, o + 0x20), Link = BitConverter.ToUInt32(b, o + 0x28), Info = BitConverter.ToUInt32(b, o + 0x2C),
            };
        }
        return result;
    }

    private static string Str(byte[] b, Section strtab, uint offset)
    {
        int start = checked((int)(strtab.Offset + offset)), end = start;
        while (b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, start, end - start);
    }

    /// <summary>True when the library's version definitions (.gnu.version_d) include the version.</summary>
    public static bool Defines(byte[] b, string version)
    {
        var sections = Sections(b);
        foreach (var s in sections)
        {
            if (s.Type != ShtGnuVerdef) continue;
            var strtab = sections[s.Link];
            int o = checked((int)s.Offset);
            for (uint n = 0; n < s.Info; n++)
            {
                int aux = o + (int)BitConverter.ToUInt32(b, o + 12);
                if (Str(b, strtab, BitConverter.ToUInt32(b, aux)) == version) return true;
                uint next = BitConverter.ToUInt32(b, o + 16);
                if (next == 0) break;
                o += (int)next;
            }
        }
        return false;
    }

    /// <summary>True when the library needs the version and the need is marked weak.</summary>
    public static bool IsWeakNeed(byte[] b, string version) => Visit(b, version, patch: false) == "already weak";

    /// <summary>Sets VER_FLG_WEAK on the Vernaux entry named version. Returns "patched", "already weak" or "absent".</summary>
    public static string MarkWeak(byte[] b, string version) => Visit(b, version, patch: true);

    private static string Visit(byte[] b, string version, bool patch)
    {
        var sections = Sections(b);
        foreach (var s in sections)
        {
            if (s.Type != ShtGnuVerneed) continue;
            var strtab = sections[s.Link];
            int o = checked((int)s.Offset);
            for (uint n = 0; n < s.Info; n++)
            {
                int count = BitConverter.ToUInt16(b, o + 2);
                int aux = o + (int)BitConverter.ToUInt32(b, o + 8);
                for (int a = 0; a < count; a++)
                {
                    if (Str(b, strtab, BitConverter.ToUInt32(b, aux + 8)) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(b, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return "already weak";
                        if (!patch) return "strong";
                        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(b, aux + 4);
                        return "patched";
                    }
                    uint nextAux = BitConverter.ToUInt32(b, aux + 12);
                    if (nextAux == 0) break;
                    aux += (int)nextAux;
                }
                uint next = BitConverter.ToUInt32(b, o + 12);
                if (next == 0) break;
                o += (int)next;
            }
        }
        return "absent";
    }
}
