using NLayer;

namespace MoeFunctions.Audio.Decoding;

/// <summary>
/// MP3 (MPEG-1/2/2.5 Layer I-III): <see cref="Mp3FrameReader"/> cuts the stream into frames and NLayer's
/// <see cref="MpegFrameDecoder"/> decodes them, a segment of <see cref="DefaultSegmentFrames"/> frames per task, several at once.
/// </summary>
/// <remarks>
/// <para>Segments make MP3 decoding use more than one core (NLayer alone ran at 0.6-0.75x of an ffmpeg process on this machine).
/// Each segment is decoded by a fresh decoder that first runs over the previous segment's last frames (at least
/// <see cref="WarmupFrames"/> frames and <see cref="WarmupBytes"/> bytes) and drops their output: by then the bit reservoir (main data
/// reaches at most 511 bytes back), the IMDCT overlap (one granule) and the synthesis filter bank (512 samples) hold what one
/// decoder running through the whole file would hold, so the output is the same samples (Mp3DecoderTests compares it with
/// NLayer's own <c>MpegFile</c> bit for bit). Segment boundaries depend only on the stream, never on the core count.</para>
/// <para>NLayer's output starts 529 samples later than ffmpeg's (decoder delay of the synthesis filter bank, measured:
/// DESIGN.md section 5); those samples are dropped so timings match ffmpeg's decode. Like ffmpeg, a Xing/Info frame is not
/// decoded, and the encoder delay and padding of its LAME extension are honoured (gapless): without this LAME files would be
/// 576 samples late.</para>
/// <para>Stereo is mixed to mono inside NLayer (<see cref="StereoMode.DownmixToMono"/>): it averages the two channels' spectra
/// before the hybrid and polyphase synthesis, which are linear, so they run once instead of twice (1.7x faster; the same samples
/// as decoding both channels and averaging them to within 7e-7, docs/audio.md).</para>
/// <para>A frame NLayer cannot decode is skipped and the decoder reset, as ffmpeg skips damaged frames.</para>
/// </remarks>
internal sealed class Mp3Decoder : PcmDecoder
{
    internal const int NLayerDelay = 529;
    internal const int DefaultSegmentFrames = 256; // 6.7 s at 44.1 kHz
    internal const int WarmupFrames = 8, WarmupBytes = 2048;
    private readonly InputStream _input;
    private readonly Mp3FrameReader _reader;
    private readonly int _segmentFrames, _parallelism;
    private readonly Queue<Task<float[]>> _pending = new();
    private readonly CancellationTokenSource _disposed = new();
    private List<byte> _carryBytes = [];                   // the warm-up for the next segment: the last segment's tail
    private List<(int Offset, MpegFrameHeader Header)> _carryFrames = [];
    private bool _inputDone, _firstSegment = true;
    private float[] _current = [];
    private int _currentPos;
    private int _toSkip;
    private long _left = long.MaxValue; // samples still allowed before the LAME padding

    public override string Format => "mp3";
    public override string DecoderName => "NLayer";
    public override int SampleRate { get; }
    public override int Channels => 1;
    public override int SourceChannels { get; }

    /// <param name="segmentFrames">Frames per segment (tests use small ones to get many boundaries).</param>
    /// <param name="parallelism">Segments decoded at once; 0 = the processor count (at least 2, so decoding overlaps the reader).</param>
    public Mp3Decoder(InputStream input, int segmentFrames = DefaultSegmentFrames, int parallelism = 0)
    {
        _input = input;
        _reader = new Mp3FrameReader(input);
        _segmentFrames = segmentFrames;
        _parallelism = parallelism > 0 ? parallelism : Math.Max(2, Environment.ProcessorCount);
        var first = new List<byte>();
        var header = _reader.Next(first) ?? throw new MediaDecodeException("mp3: no valid MPEG audio frame found");
        SampleRate = header.SampleRate;
        SourceChannels = header.IsMono ? 1 : 2;
        CheckLayout("mp3", SampleRate, Channels);
        _toSkip = NLayerDelay;
        var bytes = first.ToArray();
        if (IsVbrInfoFrame(bytes, header))
        {
            if (ParseLameTag(bytes) is var (delay, padding, frames))
            {
                _toSkip += delay;
                if (frames > 0) _left = Math.Max(0, frames * (long)header.SampleCount - delay - padding);
            }
        }
        else
        {
            _carryBytes = first;
            _carryFrames = [(0, header)];
        }
    }

    /// <summary>A Xing/Info (LAME, ffmpeg) or VBRI (Fraunhofer) header frame: stream facts, no audio.</summary>
    internal static bool IsVbrInfoFrame(ReadOnlySpan<byte> f, MpegFrameHeader h)
    {
        int p = 4 + (h.VersionBits == 3 ? (h.IsMono ? 17 : 32) : (h.IsMono ? 9 : 17));
        return h.Layer == 3 && ((f.Length >= p + 4 && (f.Slice(p, 4).SequenceEqual("Xing"u8) || f.Slice(p, 4).SequenceEqual("Info"u8)))
                                || (f.Length >= 40 && f.Slice(36, 4).SequenceEqual("VBRI"u8)));
    }

    /// <summary>Encoder delay, padding and frame count from a Xing/Info frame carrying a LAME extension (as written by LAME and ffmpeg).</summary>
    internal static (int Delay, int Padding, long Frames)? ParseLameTag(ReadOnlySpan<byte> f)
    {
        if (f.Length < 4 || f[0] != 0xFF || (f[1] & 0xE0) != 0xE0) return null;
        bool mpeg1 = (f[1] & 0x18) == 0x18, mono = f[3] >> 6 == 3;
        int p = 4 + (mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17));
        if (f.Length < p + 8 || !(f.Slice(p, 4).SequenceEqual("Xing"u8) || f.Slice(p, 4).SequenceEqual("Info"u8))) return null;
        uint flags = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f[(p + 4)..]);
        p += 8;
        long frames = 0;
        if ((flags & 1) != 0) { if (f.Length < p + 4) return null; frames = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(f[p..]); p += 4; }
        if ((flags & 2) != 0) p += 4;
        if ((flags & 4) != 0) p += 100;
        if ((flags & 8) != 0) p += 4;
        if (f.Length < p + 24) return null;
        var enc = f.Slice(p, 4);
        if (!(enc.SequenceEqual("LAME"u8) || enc.SequenceEqual("Lavf"u8) || enc.SequenceEqual("Lavc"u8))) return null;
        int delay = f[p + 21] << 4 | f[p + 22] >> 4, padding = (f[p + 22] & 0xF) << 8 | f[p + 23];
        return (delay, padding, frames);
    }

    public override int ReadFrames(Span<float> interleaved)
    {
        while (true)
        {
            if (_currentPos >= _current.Length)
            {
                StartSegments();
                if (!_pending.TryDequeue(out var next)) return 0;
                _current = next.GetAwaiter().GetResult();
                _currentPos = 0;
                StartSegments();
                continue;
            }
            int skip = (int)Math.Min(_toSkip, _current.Length - _currentPos);
            _toSkip -= skip;
            _currentPos += skip;
            if (_left <= 0) return 0;
            int keep = (int)Math.Min(Math.Min(interleaved.Length, _current.Length - _currentPos), _left);
            if (keep == 0) continue;
            _current.AsSpan(_currentPos, keep).CopyTo(interleaved);
            _currentPos += keep;
            _left -= keep;
            return keep;
        }
    }

    /// <summary>Reads whole segments from the input (on the caller's thread, so input faults surface there) and starts their
    /// decoding until <see cref="_parallelism"/> are pending.</summary>
    private void StartSegments()
    {
        while (!_inputDone && _pending.Count < _parallelism)
        {
            var bytes = _carryBytes;
            var frames = _carryFrames;
            int warmup = _firstSegment ? 0 : frames.Count; // the first segment carries the first frame, which is audio
            _firstSegment = false;
            while (frames.Count - warmup < _segmentFrames)
            {
                int offset = bytes.Count;
                if (_reader.Next(bytes) is not { } header) { _inputDone = true; break; }
                frames.Add((offset, header));
            }
            if (frames.Count == warmup) break;
            CarryTail(bytes, frames);
            var data = bytes.ToArray();
            var list = frames.ToArray();
            var token = _disposed.Token;
            _pending.Enqueue(Task.Run(() => DecodeSegment(data, list, warmup, token), token));
        }
    }

    /// <summary>Keeps the segment's last frames (at least <see cref="WarmupFrames"/> and <see cref="WarmupBytes"/>) for the next segment's warm-up.</summary>
    private void CarryTail(List<byte> bytes, List<(int Offset, MpegFrameHeader Header)> frames)
    {
        int k = frames.Count - 1;
        while (k > 0 && (frames.Count - k < WarmupFrames || bytes.Count - frames[k].Offset < WarmupBytes)) k--;
        int from = frames[k].Offset;
        _carryBytes = bytes.GetRange(from, bytes.Count - from);
        _carryFrames = frames.GetRange(k, frames.Count - k).Select(f => (f.Offset - from, f.Header)).ToList();
    }

    /// <summary>Decodes <paramref name="frames"/> with a fresh decoder; returns the mono output of all but the first <paramref name="warmup"/>.</summary>
    private static float[] DecodeSegment(byte[] data, (int Offset, MpegFrameHeader Header)[] frames, int warmup, CancellationToken token)
    {
        var decoder = new MpegFrameDecoder { StereoMode = StereoMode.DownmixToMono };
        var frame = new Mp3Frame();
        var pcm = new float[1152 * 2];
        int total = 0;
        for (int i = warmup; i < frames.Length; i++) total += frames[i].Header.SampleCount;
        var output = new float[total];
        int pos = 0;
        for (int i = 0; i < frames.Length; i++)
        {
            token.ThrowIfCancellationRequested();
            frame.Load(data, frames[i].Offset, frames[i].Header);
            int n;
            try { n = decoder.DecodeFrame(frame, pcm, 0); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                decoder.Reset(); // a damaged frame: skipped, like ffmpeg does
                continue;
            }
            if (i < warmup) continue;
            n = Math.Min(n, output.Length - pos);
            pcm.AsSpan(0, n).CopyTo(output.AsSpan(pos));
            pos += n;
        }
        return pos == output.Length ? output : output[..pos];
    }

    public override void Dispose()
    {
        _disposed.Cancel();
        _input.Dispose();
    }
}
