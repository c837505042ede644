using NLayer;

namespace MoeFunctions.Audio.Decoding;

/// <summary>MP3 through NLayer. NLayer's output starts 529 samples later than ffmpeg's (decoder delay of the
/// synthesis filter bank, measured: DESIGN.md section 5); those samples are dropped so timings match ffmpeg's decode.</summary>
internal sealed class Mp3Decoder : PcmDecoder
{
    internal const int NLayerDelay = 529;
    private readonly MpegFile _mpeg;
    private readonly InputStream _input;
    private float[] _scratch = [];
    private int _toSkip;

    public override string Format => "mp3";
    public override string DecoderName => "NLayer";
    public override int SampleRate { get; }
    public override int Channels { get; }

    public Mp3Decoder(InputStream input)
    {
        _input = input;
        try
        {
            _mpeg = new MpegFile(input);
            SampleRate = _mpeg.SampleRate;
            Channels = _mpeg.Channels;
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            throw new MediaDecodeException($"mp3: no valid MPEG audio frame found ({e.Message})", e);
        }
        CheckLayout("mp3", SampleRate, Channels);
        _toSkip = NLayerDelay * Channels;
    }

    public override int ReadFrames(Span<float> interleaved)
    {
        int want = interleaved.Length - interleaved.Length % Channels;
        if (_scratch.Length < want) _scratch = new float[want];
        while (true)
        {
            int got;
            try { got = _mpeg.ReadSamples(_scratch, 0, want); }
            catch (Exception e) when (e is not MediaDecodeException)
            {
                throw new MediaDecodeException($"mp3: corrupt stream ({e.Message})", e);
            }
            if (got <= 0) return 0;
            int skip = Math.Min(_toSkip, got);
            _toSkip -= skip;
            int keep = got - skip;
            if (keep == 0) continue;
            _scratch.AsSpan(skip, keep).CopyTo(interleaved);
            return keep / Channels;
        }
    }

    public override void Dispose()
    {
        _mpeg.Dispose();
        _input.Dispose();
    }
}
