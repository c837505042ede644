namespace MoeFunctions.Audio.Decoding;

/// <summary>The 4-byte header of an MPEG-1/2/2.5 audio frame (ISO 11172-3, 13818-3): what the sniffer needs to confirm a sync and
/// what the MP3 frame reader needs to cut the stream into frames.</summary>
internal readonly record struct MpegFrameHeader(
    int VersionBits,     // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    int Layer,           // 1, 2 or 3
    int BitRateIndex,
    int SampleRateIndex,
    int SampleRate,
    int BitRateKbps,     // 0 for free format
    bool Padding,
    bool HasCrc,
    int ChannelModeBits, // 0 stereo, 1 joint stereo, 2 dual channel, 3 mono
    int ModeExtension,
    bool Copyright)
{
    private static readonly int[] L1V1 = [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
    private static readonly int[] L2V1 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
    private static readonly int[] L3V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    private static readonly int[] L1V2 = [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
    private static readonly int[] L23V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

    /// <summary>A header with valid version, layer, bitrate and rate fields (free format included), or null.</summary>
    public static MpegFrameHeader? TryParse(ReadOnlySpan<byte> h)
    {
        if (h.Length < 4 || h[0] != 0xFF || (h[1] & 0xE0) != 0xE0) return null;
        int version = (h[1] >> 3) & 3, layerBits = (h[1] >> 1) & 3, bitrateIndex = h[2] >> 4, rateIndex = (h[2] >> 2) & 3;
        if (version == 1 || layerBits == 0 || bitrateIndex == 15 || rateIndex == 3) return null;
        int layer = 4 - layerBits;
        int rate = (rateIndex switch { 0 => 44100, 1 => 48000, _ => 32000 }) >> (version == 3 ? 0 : version == 2 ? 1 : 2);
        int kbps = (version == 3 ? layer switch { 1 => L1V1, 2 => L2V1, _ => L3V1 } : layer == 1 ? L1V2 : L23V2)[bitrateIndex];
        return new MpegFrameHeader(version, layer, bitrateIndex, rateIndex, rate, kbps, (h[2] & 2) != 0, (h[1] & 1) == 0,
            h[3] >> 6, (h[3] >> 4) & 3, (h[3] & 8) != 0);
    }

    public bool IsMono => ChannelModeBits == 3;
    public bool IsFreeFormat => BitRateKbps == 0;

    /// <summary>PCM samples per channel the frame decodes to.</summary>
    public int SampleCount => Layer == 1 ? 384 : Layer == 3 && VersionBits != 3 ? 576 : 1152;

    /// <summary>Bytes of the whole frame, header included; 0 for free format (the length is not stated).</summary>
    public int Length => IsFreeFormat ? 0
        : Layer == 1 ? (12000 * BitRateKbps / SampleRate + (Padding ? 1 : 0)) * 4
        : (Layer == 3 && VersionBits != 3 ? 72000 : 144000) * BitRateKbps / SampleRate + (Padding ? 1 : 0);
}
