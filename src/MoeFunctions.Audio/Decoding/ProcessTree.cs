using System.Diagnostics;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Kills a process and everything it started, and returns only once they are gone. <see cref="Process.Kill(bool)"/>
/// sends SIGKILL and returns at once; the signal is delivered asynchronously, so without the wait a "timed out" result
/// could be reported while ffmpeg (or a child it forked) still runs for a moment on a loaded machine.
/// </summary>
internal static class ProcessTree
{
    public static void KillAndWait(Process process, TimeSpan wait)
    {
        try
        {
            if (process.HasExited) return;
            var descendants = Descendants(process.Id); // listed before the kill: orphans are re-parented to init at once
            process.Kill(entireProcessTree: true);
            var deadline = DateTime.UtcNow + wait;
            process.WaitForExit(wait);
            foreach (int pid in descendants)
                while (IsRunning(pid) && DateTime.UtcNow < deadline) Thread.Sleep(5);
        }
        catch (Exception) { } // already gone, or not ours to kill: nothing left to wait for
    }

    /// <summary>Every process below <paramref name="root"/>, from /proc (empty where there is no /proc).</summary>
    private static List<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        if (!Directory.Exists("/proc")) return [];
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            if (ReadStat(pid) is not { } stat) continue;
            if (!children.TryGetValue(stat.Parent, out var list)) children[stat.Parent] = list = [];
            list.Add(pid);
        }
        var found = new List<int>();
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out int pid))
            if (children.TryGetValue(pid, out var list))
                foreach (int child in list) { found.Add(child); pending.Push(child); }
        return found;
    }

    /// <summary>Alive and not a zombie: a zombie has released everything and only waits for its parent to reap it.</summary>
    private static bool IsRunning(int pid) => ReadStat(pid) is { State: not 'Z' };

    private static (char State, int Parent)? ReadStat(int pid)
    {
        try
        {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses, so split after the last ')'.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ', 3);
            return (rest[0][0], int.Parse(rest[1]));
        }
        catch (Exception) { return null; }
    }
}
