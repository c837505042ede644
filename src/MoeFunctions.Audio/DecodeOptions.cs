namespace MoeFunctions.Audio;

/// <summary>Limits and tools for decoding untrusted media. Every limit has a safe default.</summary>
public sealed record DecodeOptions
{
    /// <summary>Inputs larger than this are refused before decoding.</summary>
    public long MaxBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Decoding stops with a Failed result once this much audio has been produced.</summary>
    public double MaxDurationSeconds { get; init; } = 6 * 3600;

    /// <summary>ffmpeg executable; null means look it up on PATH. When missing, formats that need it fail with "unsupported format, install ffmpeg".</summary>
    public string? FfmpegPath { get; init; }

    /// <summary>An ffmpeg process that produces no output for this long is killed.</summary>
    public TimeSpan FfmpegTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static DecodeOptions Default { get; } = new();
}
