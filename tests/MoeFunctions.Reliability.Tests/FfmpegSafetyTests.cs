using System.Diagnostics;
using MoeFunctions.Audio;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Reliability.Tests;

/// <summary>
/// Issue 8: ffmpeg is started without a shell, with an argument list, reading a pipe or a checked temp path, with its
/// protocols restricted. The argv is captured by a fake ffmpeg (a shell script at DecodeOptions.FfmpegPath); the
/// protocol restriction is then proven by replaying that exact argv with the real ffmpeg on crafted playlists.
/// </summary>
public sealed class FfmpegSafetyTests : IDisposable
{
    private readonly TempDir _dir = MediaFiles.NewTempDir("moe-ffmpeg-safety");
    private readonly string _token = Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => _dir.Dispose();

    /// <summary>A fake ffmpeg in a folder whose name would run commands if any shell ever parsed the path.</summary>
    private (string Exe, string Record) FakeFfmpeg()
    {
        string record = Directory.CreateDirectory(_dir.File("record")).FullName;
        string hostile = _dir.File($"ff dir;touch PWNED-{_token};$(touch PWNED2-{_token})");
        Directory.CreateDirectory(hostile);
        string exe = Path.Combine(hostile, "ffmpeg");
        File.WriteAllText(exe, $$"""
            #!/bin/sh
            printf '%s\n' "$@" > '{{record}}/argv'
            cat /proc/$PPID/comm > '{{record}}/parent'
            for a in "$@"; do case "$a" in file:*) [ -f "${a#file:}" ] && echo "${a#file:}" > '{{record}}/tempfile';; esac; done
            wc -c > '{{record}}/stdin-bytes'
            echo "Invalid data found when processing input" >&2
            exit 1
            """.Replace("\r", ""));
        File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return (exe, record);
    }

    private static List<string> Argv(string record) => [.. File.ReadAllLines(Path.Combine(record, "argv"))];

    private static string After(List<string> argv, string flag)
    {
        int i = argv.IndexOf(flag);
        Assert.True(i >= 0 && i + 1 < argv.Count, $"{flag} missing in: {string.Join(' ', argv)}");
        return argv[i + 1];
    }

    private string MuLawSpeech() =>
        MediaFiles.Convert(SeedMedia.Get.SpeechWav, _dir.File("input name; rm -rf ~ $(id).wav"), "-c:a", "pcm_mulaw", "-ar", "8000");

    [Fact]
    public void Piped_input_is_passed_as_an_argument_list_without_a_shell_and_with_only_the_pipe_protocol()
    {
        var (exe, record) = FakeFfmpeg();
        string input = MuLawSpeech(); // a WAV encoding the managed reader leaves to ffmpeg
        var e = Assert.Throws<MediaDecodeException>(() =>
            MediaDecoder.OpenFile(input, new DecodeOptions { FfmpegPath = exe, FfmpegTimeout = TimeSpan.FromSeconds(20) }).Dispose());
        Assert.Contains("Invalid data", e.Message);

        var argv = Argv(record);
        Assert.Equal("pipe", After(argv, "-protocol_whitelist"));
        Assert.Equal("pipe:0", After(argv, "-i"));
        Assert.True(argv.IndexOf("-protocol_whitelist") < argv.IndexOf("-i"), "the whitelist must come before the input it restricts");
        Assert.DoesNotContain(argv, a => a.Contains("input name", StringComparison.Ordinal)); // the file name never reaches ffmpeg
        // The whole file arrived on stdin.
        Assert.Equal(new FileInfo(input).Length, long.Parse(File.ReadAllText(Path.Combine(record, "stdin-bytes")).Trim()));
        // Started directly (execve), not through a shell: the parent is this .NET process and the path's ';' and '$(...)' never ran.
        string parent = File.ReadAllText(Path.Combine(record, "parent")).Trim();
        Assert.DoesNotContain(parent, new[] { "sh", "bash", "dash" });
        Assert.False(File.Exists($"PWNED-{_token}") || File.Exists($"PWNED2-{_token}"), "a shell parsed the ffmpeg path");
    }

    [Fact]
    public void Mp4_input_goes_through_a_generated_temp_file_restricted_to_the_file_protocol_and_is_deleted()
    {
        var (exe, record) = FakeFfmpeg();
        string input = MediaFiles.Convert(SeedMedia.Get.SpeechWav, _dir.File("-evil name.m4a"), "-c:a", "aac");
        Assert.Throws<MediaDecodeException>(() =>
            MediaDecoder.OpenFile(input, new DecodeOptions { FfmpegPath = exe, FfmpegTimeout = TimeSpan.FromSeconds(20) }).Dispose());

        var argv = Argv(record);
        Assert.Equal("file", After(argv, "-protocol_whitelist"));
        string i = After(argv, "-i");
        Assert.StartsWith("file:", i);
        string temp = i["file:".Length..];
        Assert.Equal(Path.GetFullPath(Path.GetTempPath()), Path.GetFullPath(Path.GetDirectoryName(temp)!) + "/");
        Assert.Matches(@"^moe-decode-[0-9a-f]{32}\.bin$", Path.GetFileName(temp));
        Assert.Equal(temp, File.ReadAllText(Path.Combine(record, "tempfile")).Trim()); // it existed while ffmpeg ran
        Assert.False(File.Exists(temp), "the spooled copy must be deleted");
    }

    /// <summary>An ffmpeg that stalls (say, on a crafted file) is killed after DecodeOptions.FfmpegTimeout, its children too.</summary>
    [Fact]
    public void Stalled_ffmpeg_is_killed_after_the_timeout()
    {
        string record = Directory.CreateDirectory(_dir.File("stall")).FullName;
        string exe = _dir.File("ffmpeg-stall");
        // A child and a grandchild, so the whole tree has to go, not just the process the decoder started.
        File.WriteAllText(exe, $"#!/bin/sh\necho $$ > '{record}/pid'\nsleep 300 &\necho $! > '{record}/child'\n" +
                               $"sh -c \"sleep 300 & echo \\$! > '{record}/grandchild'; wait\" &\nwait\n");
        File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var outcome = DecodeRunner.Run(() => new FileStream(MuLawSpeech(), FileMode.Open, FileAccess.Read),
            new DecodeOptions { FfmpegPath = exe, FfmpegTimeout = TimeSpan.FromSeconds(2) });
        Assert.Equal(OutcomeKind.Failed, outcome.Kind);
        Assert.Contains("timed out", outcome.Reason);
        foreach (var f in new[] { "pid", "child", "grandchild" })
        {
            int pid = int.Parse(File.ReadAllText(Path.Combine(record, f)).Trim());
            Assert.False(IsRunning(pid), $"ffmpeg's {f} process {pid} still runs");
        }
    }

    /// <summary>Alive and not a zombie (a reaped or zombie process no longer runs anything).</summary>
    private static bool IsRunning(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].TrimStart().StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    [Fact]
    public void Real_ffmpeg_decodes_piped_input_as_a_control()
    {
        var outcome = DecodeRunner.RunFile(MuLawSpeech());
        Assert.Equal(OutcomeKind.Scored, outcome.Kind);
    }

    [Fact]
    public void Playlists_are_refused_before_ffmpeg()
    {
        foreach (var text in new[] { "#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n", "ffconcat version 1.0\nfile '/etc/passwd'\n" })
        {
            var e = Assert.Throws<MediaDecodeException>(() => MediaDecoder.Open(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(text))));
            Assert.Contains("not a media file", e.Message);
        }
    }

    public static TheoryData<string> Playlists() => new() { "hls", "ffconcat" };

    /// <summary>
    /// Even if a playlist got past the sniffing, the argument list the decoder uses keeps ffmpeg from opening the
    /// file it names. The control run without the whitelist shows the playlist really would leak the file.
    /// </summary>
    [Theory]
    [MemberData(nameof(Playlists))]
    public void Crafted_playlist_cannot_make_ffmpeg_read_another_file(string kind)
    {
        // The decoder's real argv, captured from the fake.
        var (exe, record) = FakeFfmpeg();
        Assert.Throws<MediaDecodeException>(() => MediaDecoder.OpenFile(MuLawSpeech(), new DecodeOptions { FfmpegPath = exe }).Dispose());
        var argv = Argv(record);

        // The "other file": real audio (MPEG-TS, a segment type HLS accepts), so reading it would show up as decoded samples.
        string secret = MediaFiles.Ffmpeg(["-f", "lavfi", "-i", "sine=frequency=1000:duration=2", "-c:a", "mp2"], _dir.File("secret.ts"));
        string playlist = kind == "hls"
            ? $"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nfile://{secret}\n#EXT-X-ENDLIST\n"
            : $"ffconcat version 1.0\nfile 'file:{secret}'\n";
        if (kind == "ffconcat") argv.InsertRange(0, ["-safe", "0"]); // even with the concat demuxer's own path check off

        var restricted = RunFfmpeg(argv, playlist);
        Assert.True(restricted.ExitCode != 0 || restricted.Stdout.Length == 0, $"ffmpeg read the target: {restricted.Stdout.Length} bytes");
        Assert.Equal(0, restricted.Stdout.Length);
        Assert.Contains("not on whitelist", restricted.Stderr); // refused for the protocol, not by accident

        // Control: the same playlist with the whitelist widened does reach the file, so the test can see a leak.
        var open = new List<string>(argv);
        open[open.IndexOf("-protocol_whitelist") + 1] = "pipe,file";
        var leaked = RunFfmpeg(open, playlist);
        Assert.True(leaked.Stdout.Length > 16000 * 4, $"control did not read the file: {leaked.Stderr}");
    }

    private static (int ExitCode, byte[] Stdout, string Stderr) RunFfmpeg(List<string> argv, string stdin)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in argv) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(ms);
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(30_000)) { p.Kill(true); throw new TimeoutException("ffmpeg hung"); }
        copy.Wait();
        return (p.ExitCode, ms.ToArray(), err.Result);
    }
}
