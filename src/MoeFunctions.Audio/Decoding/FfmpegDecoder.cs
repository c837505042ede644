using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// Everything without a managed decoder goes through an ffmpeg process. Safety measures:
/// no shell (ArgumentList), input on stdin (<c>-i pipe:0</c>) with <c>-protocol_whitelist pipe</c>, or, for ISO-BMFF (MP4/M4A/MOV,
/// whose index may sit at the end and needs seeking), a spooled temp file with a generated name and <c>-protocol_whitelist file</c>;
/// so a crafted playlist or reference cannot make ffmpeg read other files or the network. Output is the first audio
/// stream as f32le at its native rate and channel count (not <c>-ac 1</c>: ffmpeg's downmix is power-preserving, (L+R)/sqrt(2),
/// not the mean), then downmixed and resampled by our own code like every other format.
/// The process tree is killed when it produces nothing for <see cref="DecodeOptions.FfmpegTimeout"/>; stderr is kept (bounded) for the error reason.
/// </summary>
internal sealed partial class FfmpegDecoder : PcmDecoder
{
    private const int StderrLimit = 16 * 1024;
    private readonly Process _process;
    private readonly Stream _stdout;
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource<bool> _outputKnown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _stderrTask, _stdinTask;
    private readonly TimeSpan _timeout;
    private readonly string? _tempFile;
    private readonly byte[] _bytes = new byte[64 * 1024];
    private int _carry;
    private int _rate, _inChannels, _outChannels;
    private string _format = "unknown";
    private double? _duration;
    private volatile bool _disposed, _stalled;
    /// <summary>Stopwatch timestamp of the blocking stdout read in progress, 0 when none: what the watchdog times.</summary>
    private long _readSince;
    private readonly Timer _watchdog;

    public override string Format => _format;
    public override string DecoderName => "ffmpeg";
    public override int SampleRate => _rate;
    public override int Channels => _outChannels;
    public override int SourceChannels => _inChannels > 0 ? _inChannels : Channels;
    public override double? DurationSeconds => _duration;

    /// <summary>Finds the ffmpeg executable: the configured path, else the PATH; null when there is none.</summary>
    public static string? Locate(DecodeOptions options)
    {
        if (options.FfmpegPath is { } configured) return File.Exists(configured) ? Path.GetFullPath(configured) : null;
        string exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "ffmpeg.exe" : "ffmpeg";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, exe);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public FfmpegDecoder(string ffmpeg, InputStream input, bool needsSeek, DecodeOptions options)
    {
        _timeout = options.FfmpegTimeout;
        if (needsSeek)
        {
            // MP4-family files may keep their index (moov) at the end, which ffmpeg cannot reach through a pipe.
            _tempFile = Path.Combine(Path.GetTempPath(), $"moe-decode-{Guid.NewGuid():N}.bin");
            try
            {
                using var fs = new FileStream(_tempFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                input.CopyTo(fs); // MaxBytes is enforced by the input stream
            }
            catch
            {
                TryDelete(_tempFile);
                input.Dispose();
                throw;
            }
            input.Dispose();
        }
        var psi = new ProcessStartInfo(ffmpeg)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in new[] { "-hide_banner", "-nostats", "-loglevel", "info", "-protocol_whitelist", needsSeek ? "file" : "pipe" })
            psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-i");
        psi.ArgumentList.Add(needsSeek ? "file:" + _tempFile : "pipe:0");
        foreach (var a in new[] { "-map", "0:a:0", "-vn", "-sn", "-dn", "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1" })
            psi.ArgumentList.Add(a);
        try
        {
            _process = Process.Start(psi) ?? throw new MediaDecodeException("ffmpeg could not be started");
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            if (_tempFile != null) TryDelete(_tempFile);
            input.Dispose();
            throw new MediaDecodeException($"ffmpeg could not be started ({e.Message})", e);
        }
        _stdout = _process.StandardOutput.BaseStream;
        // Own threads, not the thread pool, and blocking reads below: a scan's decoders already hold pool threads, and waiting
        // on work that needs another pool thread stalled each ffmpeg file for up to a second on two cores while the pool grew
        // (docs/benchmarks.md "Thread-pool stall").
        _stderrTask = Task.Factory.StartNew(ReadStderr, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _stdinTask = needsSeek ? CloseStdin()
            : Task.Factory.StartNew(() => PumpStdin(input), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_timeout.TotalMilliseconds / 4, 20, 1000));
        // The timer holds the decoder weakly: a decoder its caller forgot to dispose must stay collectable.
        _watchdog = new Timer(static state => { if (((WeakReference<FfmpegDecoder>)state!).TryGetTarget(out var d)) d.StopIfStalled(); },
            new WeakReference<FfmpegDecoder>(this), period, period);
        try
        {
            if (!_outputKnown.Task.Wait(_timeout)) Fail("ffmpeg timed out before producing audio");
            if (!_outputKnown.Task.Result) Fail(null);
            CheckLayout(_format, _rate, _outChannels);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private Task CloseStdin()
    {
        _process.StandardInput.Close();
        return Task.CompletedTask;
    }

    private void PumpStdin(InputStream input)
    {
        try
        {
            using var stdin = _process.StandardInput.BaseStream;
            input.CopyTo(stdin, 1 << 16);
        }
        catch (IOException) { }           // ffmpeg stopped reading (done, or failed: its stderr says why)
        catch (ObjectDisposedException) { }
        catch (MediaDecodeException e)    // MaxBytes: stop feeding and make the reader fail with that reason
        {
            lock (_stderr) _stderr.Insert(0, "LIMIT: " + e.Message + "\n");
            Kill();
        }
        finally { input.Dispose(); }
    }

    private void ReadStderr()
    {
        try
        {
            string? line;
            bool inOutput = false;
            while ((line = _process.StandardError.ReadLine()) != null)
            {
                lock (_stderr)
                {
                    if (_stderr.Length < StderrLimit) _stderr.AppendLine(line);
                }
                if (line.StartsWith("Input #0, ", StringComparison.Ordinal))
                    _format = line["Input #0, ".Length..].Split(", from", 2)[0].Trim();
                else if (line.StartsWith("Output #0", StringComparison.Ordinal)) inOutput = true;
                var m = DurationRegex().Match(line);
                if (m.Success && !inOutput)
                    _duration = int.Parse(m.Groups[1].Value) * 3600 + int.Parse(m.Groups[2].Value) * 60 + double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
                var s = AudioStreamRegex().Match(line);
                if (s.Success)
                {
                    if (!inOutput && _inChannels == 0) _inChannels = ParseChannels(s.Groups[2].Value);
                    if (inOutput && _rate == 0)
                    {
                        _rate = int.Parse(s.Groups[1].Value);
                        _outChannels = ParseChannels(s.Groups[2].Value);
                        if (_outChannels == 0)
                            lock (_stderr) _stderr.Insert(0, $"LIMIT: ffmpeg: unsupported channel layout '{s.Groups[2].Value.Trim()}'\n");
                        _outputKnown.TrySetResult(_outChannels > 0);
                    }
                }
            }
        }
        catch (Exception) { }
        finally { _outputKnown.TrySetResult(false); }
    }

    private static int ParseChannels(string layout)
    {
        layout = layout.Trim();
        var m = Regex.Match(layout, @"^(\d+) channels");
        if (m.Success) return int.Parse(m.Groups[1].Value);
        string baseName = layout.Split('(')[0];
        return baseName switch
        {
            "mono" => 1, "stereo" or "downmix" => 2, "2.1" or "3.0" => 3, "3.1" or "4.0" or "quad" => 4,
            "4.1" or "5.0" => 5, "5.1" or "6.0" or "hexagonal" => 6, "6.1" or "7.0" => 7, "7.1" or "octagonal" => 8,
            _ => 0,
        };
    }

    [GeneratedRegex(@"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")]
    private static partial Regex DurationRegex();

    [GeneratedRegex(@"Stream #\d+:\d+.*?: Audio: [^,]+, (\d+) Hz, ([^,]+)")]
    private static partial Regex AudioStreamRegex();

    public override int ReadFrames(Span<float> interleaved)
    {
        int frameBytes = 4 * _outChannels;
        int want = Math.Min(interleaved.Length / _outChannels, _bytes.Length / frameBytes) * frameBytes;
        while (true)
        {
            int got;
            Volatile.Write(ref _readSince, Stopwatch.GetTimestamp());
            try { got = _stdout.Read(_bytes, _carry, want - _carry); }
            catch (IOException e) when (!_stalled) { throw new MediaDecodeException($"ffmpeg output broke off ({e.Message})", e); }
            catch (IOException) { got = 0; }
            finally { Volatile.Write(ref _readSince, 0); }
            if (_stalled) Fail($"ffmpeg produced no output for {_timeout.TotalSeconds:0} s and was stopped");
            if (got == 0)
            {
                _process.WaitForExit(_timeout);
                if (!_process.HasExited || _process.ExitCode != 0 || HasLimitMessage()) Fail(null);
                return 0;
            }
            int total = _carry + got;
            int frames = total / frameBytes;
            if (frames == 0) { _carry = total; continue; }
            MemoryMarshal.Cast<byte, float>(_bytes.AsSpan(0, frames * frameBytes)).CopyTo(interleaved);
            _carry = total - frames * frameBytes;
            if (_carry > 0) _bytes.AsSpan(frames * frameBytes, _carry).CopyTo(_bytes);
            return frames;
        }
    }

    private bool HasLimitMessage()
    {
        lock (_stderr) return _stderr.ToString().StartsWith("LIMIT: ", StringComparison.Ordinal);
    }

    private void Fail(string? reason)
    {
        Kill();
        _stderrTask.Wait(TimeSpan.FromSeconds(2));
        string log;
        lock (_stderr) log = _stderr.ToString();
        if (log.StartsWith("LIMIT: ", StringComparison.Ordinal)) throw new MediaDecodeException(log[7..].Split('\n')[0]);
        throw new MediaDecodeException(reason ?? "ffmpeg could not decode the input: " + Explain(log));
    }

    /// <summary>The most telling stderr line: ffmpeg's own error message, with the input name noise removed.</summary>
    private static string Explain(string log)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Any(l => l.Contains("matches no streams", StringComparison.Ordinal))) return "no audio track";
        var error = lines.LastOrDefault(l => l.Contains("rror", StringComparison.Ordinal) || l.Contains("nvalid", StringComparison.Ordinal))
                    ?? lines.LastOrDefault() ?? "no message";
        error = Regex.Replace(error, @"(pipe:0|file:\S+)", "input");
        return error.Length > 300 ? error[..300] : error;
    }

    private void Kill() => ProcessTree.KillAndWait(_process, TimeSpan.FromSeconds(2));

    /// <summary>The watchdog: kills ffmpeg when one read has waited longer than the timeout (time the caller spends between
    /// reads does not count); the blocked read then returns and reports the stall.</summary>
    private void StopIfStalled()
    {
        var since = Volatile.Read(ref _readSince);
        if (since == 0 || _disposed || Stopwatch.GetElapsedTime(since) <= _timeout) return;
        _stalled = true;
        Kill();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception) { }
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watchdog?.Dispose();
        Kill();
        try { _process.WaitForExit(2000); } catch (Exception) { }
        try { _stdinTask?.Wait(2000); } catch (Exception) { }
        _process.Dispose();
        if (_tempFile != null) TryDelete(_tempFile);
    }
}
