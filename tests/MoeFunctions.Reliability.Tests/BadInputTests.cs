using MoeFunctions.Audio;
using Xunit.Abstractions;

namespace MoeFunctions.Reliability.Tests;

/// <summary>The streamed cases check the live managed heap (GC.GetTotalMemory), which counts every test running in the process:
/// run alone, after the parallel classes. (A CI run measured 73.8 MB for the hour of silence, about 1 MB alone, while another
/// class, likely OggPageCheckTests' 16 MiB Vorbis packet, allocated beside it.)</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringCollection { public const string Name = "heap-measuring bad input"; }

/// <summary>Issue 8, "Bad input": every case ends as Failed-with-a-reason, NotApplicable or a normal decode within 10 s, never a crash or a hang.</summary>
[Collection(HeapMeasuringCollection.Name)]
public sealed class BadInputTests(ITestOutputHelper output)
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in BadInputCorpus.Cases) data.Add(c.Name);
        return data;
    }

    [Fact]
    public void Corpus_has_at_least_40_cases() => Assert.True(BadInputCorpus.Cases.Count >= 40, $"{BadInputCorpus.Cases.Count} cases");

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Bad_input_ends_cleanly(string name)
    {
        var c = BadInputCorpus.Find(name);
        var outcome = c.Run(SeedMedia.Get);
        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Kind is not (OutcomeKind.Crashed or OutcomeKind.Hung), $"{name}: {outcome}");
        Assert.Contains(outcome.Kind, c.Allowed);
        if (outcome.Kind == OutcomeKind.Failed)
        {
            Assert.False(string.IsNullOrWhiteSpace(outcome.Reason));
            if (c.ReasonContains != null) Assert.Contains(c.ReasonContains, outcome.Reason, StringComparison.OrdinalIgnoreCase);
        }
        c.Check?.Invoke(outcome);
    }

    /// <summary>The 10-hour file under a 12 h limit is not refused: all of it streams through the decoder, in bounded memory.</summary>
    [Fact]
    public void Ten_hour_stream_under_the_limit_decodes_to_the_end()
    {
        long bytes = 2L * BadInputCorpus.TenHoursAt16k;
        var header = SyntheticWav.Header(16000, 1, 16, bytes, riffSize: uint.MaxValue, declaredDataSize: uint.MaxValue);
        long baseline = GC.GetTotalMemory(true), peak = 0, samples = 0;
        var work = Task.Run(() =>
        {
            // Decoder only (no speech test per window): the claim is that nothing refuses or buffers a long file.
            using var source = MediaDecoder.Open(new SynthWavStream(header, bytes), new DecodeOptions { MaxDurationSeconds = 12 * 3600 });
            var buffer = new float[1 << 16];
            int n, blocks = 0;
            while ((n = source.Read(buffer)) > 0)
            {
                samples += n;
                if (++blocks % 1000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(true) - baseline);
            }
        });
        Assert.True(work.Wait(BadInputCorpus.LongLimit), "hung");
        output.WriteLine($"{samples} samples, peak live {peak / 1e6:0.0} MB");
        Assert.Equal(BadInputCorpus.TenHoursAt16k, samples);
        Assert.InRange(peak, long.MinValue, BadInputCorpus.MaxLiveBytes);
    }
}
