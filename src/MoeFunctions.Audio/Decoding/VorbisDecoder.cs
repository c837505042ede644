using NVorbis;

namespace MoeFunctions.Audio.Decoding;

/// <summary>Ogg Vorbis through NVorbis (forward-only reading works: NVorbis only seeks when asked to), fed checked pages.</summary>
internal sealed class VorbisDecoder : PcmDecoder
{
    private readonly VorbisReader _reader;
    private readonly InputStream _input;

    public override string Format => "ogg-vorbis";
    public override string DecoderName => "NVorbis";
    public override int SampleRate { get; }
    public override int Channels { get; }

    public VorbisDecoder(InputStream input)
    {
        _input = input;
        try
        {
            _reader = new VorbisReader(new CheckedOggStream(input, Format), closeOnDispose: false) { ClipSamples = false };
            SampleRate = _reader.SampleRate;
            Channels = _reader.Channels;
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            throw new MediaDecodeException($"ogg-vorbis: invalid stream headers ({e.Message})", e);
        }
        CheckLayout("ogg-vorbis", SampleRate, Channels);
    }

    public override int ReadFrames(Span<float> interleaved)
    {
        int want = interleaved.Length - interleaved.Length % Channels;
        try
        {
            return _reader.ReadSamples(interleaved[..want]) / Channels;
        }
        catch (Exception e) when (e is not MediaDecodeException)
        {
            throw new MediaDecodeException($"ogg-vorbis: corrupt stream ({e.Message})", e);
        }
    }

    public override void Dispose()
    {
        _reader.Dispose();
        _input.Dispose();
    }
}
