using MoeFunctions.TestSupport;

namespace MoeFunctions.Audio.Tests;

/// <summary>
/// Seeded random byte mutations of valid files of every managed format: each must decode or end in a
/// MediaDecodeException, never another exception and never a hang. (A cheap stand-in until the SharpFuzz harness of issue 8;
/// 300 mutations per format found nothing when run by hand.)
/// </summary>
public sealed class MutationTests(MediaFixture media) : IClassFixture<MediaFixture>
{
    [Theory]
    [InlineData(".wav")]
    [InlineData(".flac")]
    [InlineData(".mp3")]
    [InlineData(".ogg")]
    [InlineData(".opus")]
    public void Mutated_files_decode_or_fail_cleanly(string ext)
    {
        string path = MediaFiles.Synth(media.Dir.Path, "mut" + ext, "0.4*sin(2*PI*440*t)+0.1*(2*random(0)-1)", 1.0, 44100, 2);
        byte[] original = File.ReadAllBytes(path);
        var rng = new Random(ext.Length * 7919 + ext[1]);
        for (int i = 0; i < 16; i++)
        {
            byte[] b = (byte[])original.Clone();
            // Half of them hit the headers. The first 4 bytes (the magic) stay, so the managed decoder is the one tested.
            int span = i % 2 == 0 ? Math.Min(200, b.Length) : b.Length;
            for (int k = rng.Next(1, 20); k > 0; k--) b[rng.Next(4, span)] = (byte)rng.Next(256);
            var task = Task.Run(() =>
            {
                using var src = MediaDecoder.Open(new ForwardOnlyWrapper(new MemoryStream(b)));
                return TestAudio.ReadAll(src);
            });
            try
            {
                Assert.True(task.Wait(TimeSpan.FromSeconds(60)), $"mutation {i} hung");
                Assert.All(task.Result, v => Assert.True(float.IsFinite(v) && v is >= -1f and <= 1f));
            }
            catch (AggregateException e) when (e.InnerException is MediaDecodeException)
            {
                // A clear refusal is a correct outcome; any other exception type fails the test.
            }
        }
    }
}
