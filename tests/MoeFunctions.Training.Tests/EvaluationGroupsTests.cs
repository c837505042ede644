using MoeFunctions.Training.Data;
using MoeFunctions.Training.Evaluation;

namespace MoeFunctions.Training.Tests;

public class EvaluationGroupsTests
{
    private static CorpusEntry Entry(string domain, bool spoof, string source, string generator) =>
        new($"{source}/{generator}.wav", spoof, domain, "test", "speaker", source, generator, "CC0-1.0", 3.0);

    [Fact]
    public void Each_generator_is_scored_against_all_bona_fide_files_of_its_domain_and_each_source_against_all_fakes()
    {
        var files = new (CorpusEntry Entry, double Score)[]
        {
            (Entry("D2", false, "librispeech", "human"), 0.1), (Entry("D2", false, "librispeech", "human"), 0.2),
            (Entry("D2", false, "vstts", "human"), 0.6), (Entry("D2", false, "vstts", "human"), 0.7),
            (Entry("D2", true, "espeak-ng", "espeak-ng:en-us+m1"), 0.9), (Entry("D2", true, "espeak-ng", "espeak-ng:fr+f2"), 0.95),
            (Entry("D2", true, "tortoise", "tortoise"), 0.5), (Entry("D2", true, "tortoise", "tortoise"), 0.65),
            (Entry("D2", true, "tortoise", "tortoise"), double.NaN), // no speech window: left out
            (Entry("D3", false, "asterisk", "human"), 0.3),          // a domain without fakes has nothing to compare
        };
        var rows = Evaluator.ByGroup("sys", files.Select(f => f.Score).ToList(), files.Select(f => f.Entry).ToList(), bootstrap: 50)
            .ToDictionary(r => (r.Domain, r.Class, r.Group));

        Assert.Equal([("D2", "bonafide", "librispeech"), ("D2", "bonafide", "vstts"), ("D2", "spoof", "espeak-ng"), ("D2", "spoof", "tortoise")],
            rows.Keys.Order());
        // espeak-ng's two voices are one engine; it is above every bona fide score.
        var espeak = rows[("D2", "spoof", "espeak-ng")];
        Assert.Equal((2, 4, 0.0), (espeak.Files, espeak.Against, espeak.Eer));
        // Tortoise's scored fakes (0.5, 0.65) sit among the bona fide scores (0.6, 0.7).
        var tortoise = rows[("D2", "spoof", "tortoise")];
        Assert.Equal((2, 4), (tortoise.Files, tortoise.Against));
        Assert.InRange(tortoise.Eer, 0.25, 0.5);
        Assert.Equal(0.0, rows[("D2", "bonafide", "librispeech")].Eer);
        Assert.True(rows[("D2", "bonafide", "vstts")].Eer > 0.2, "vstts' real files score among the fakes");
        Assert.All(rows.Values, r => Assert.Equal("sys", r.System));
    }

    [Fact]
    public void The_default_system_row_follows_the_bundles_routing()
    {
        Assert.Equal("enhanced MoE dense", Evaluator.DefaultSystem(new() { Mode = MoeFunctions.Detection.RoutingMode.Dense, Gate = MoeFunctions.Detection.GateKind.Enhanced }));
        Assert.Equal("classic MoE sparse top-2", Evaluator.DefaultSystem(new() { Mode = MoeFunctions.Detection.RoutingMode.Sparse, TopK = 2 }));
        Assert.Equal("classic MoE cascade", Evaluator.DefaultSystem(new() { Mode = MoeFunctions.Detection.RoutingMode.Cascade }));
        Assert.Null(Evaluator.DefaultSystem(new() { Mode = MoeFunctions.Detection.RoutingMode.Sparse, TopK = 3 }));
    }
}
