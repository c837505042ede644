namespace MoeFunctions.Corpus.Tests;

/// <summary>The full plan (no audio): split honesty, language coverage, determinism.</summary>
public class PlanTests
{
    static readonly Lazy<List<CorpusJob>> Full = new(() => new Planner(new CorpusOptions { SharedData = TestPaths.SharedData }).PlanAll());

    [Fact]
    public void Every_group_speaker_and_source_recording_sits_in_exactly_one_split()
    {
        foreach (var d in Full.Value.GroupBy(j => j.Domain))
        {
            foreach (var g in d.GroupBy(j => j.Group))
                Assert.Single(g.Select(j => j.Split).Distinct());
            // Bona fide speakers are split-disjoint in D1 and D2 (speaker splits).
            if (d.Key is "D1" or "D2")
                foreach (var s in d.Where(j => j.Label == "bonafide" && j.Speaker.Length > 0).GroupBy(j => j.Speaker))
                    Assert.Single(s.Select(j => j.Split).Distinct());
            Assert.All(ManifestRow.Splits, split => Assert.Contains(d, j => j.Split == split));
        }
    }

    [Fact]
    public void Job_ids_and_output_paths_are_unique()
    {
        var dup = Full.Value.GroupBy(j => j.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(dup);
    }

    [Fact]
    public void No_D3_or_D4_text_is_in_both_train_and_test()
    {
        // The group of a D3/D4 job is its text key, so a text maps to one split.
        foreach (var d in Full.Value.Where(j => j.Domain is "D3" or "D4").GroupBy(j => j.Domain))
        {
            var train = d.Where(j => j.Split == "train").Select(j => j.Group).ToHashSet();
            Assert.DoesNotContain(d.Where(j => j.Split == "test"), j => train.Contains(j.Group));
        }
        // The digit "seven" of FSDD is one group whatever the speaker.
        var sevens = Full.Value.Where(j => j.Domain == "D4" && j.Id.StartsWith("D4/bonafide/fsdd-7_")).ToList();
        Assert.InRange(sevens.Count, 100, 300);
        Assert.Single(sevens.Select(j => j.Split).Distinct());
    }

    [Fact]
    public void LibriSpeech_speakers_given_to_D2_are_absent_from_D1()
    {
        var d1 = Full.Value.Where(j => j.Domain == "D1" && j.Source == "librispeech").Select(j => j.Speaker).ToHashSet();
        var d2 = Full.Value.Where(j => j.Domain == "D2" && j.Source == "librispeech").Select(j => j.Speaker).ToHashSet();
        Assert.NotEmpty(d1);
        Assert.NotEmpty(d2);
        Assert.Empty(d1.Intersect(d2));
    }

    [Fact]
    public void Every_D3_language_with_real_prompts_has_fakes_in_that_language_and_no_held_out_generator_is_used()
    {
        var d3 = Full.Value.Where(j => j.Domain == "D3").ToList();
        foreach (var lang in d3.Where(j => j.Label == "bonafide").Select(j => j.Id.Split('/')[2].Split('-')[0]).Distinct())
            Assert.Contains(d3, j => j.Label == "spoof" && j.Id.Split('/')[2].StartsWith(lang + "-"));
        Assert.Contains(d3, j => j.Generator.StartsWith("festival:"));
        Assert.Contains(d3, j => j.Generator.StartsWith("flite:"));
        Assert.DoesNotContain(Full.Value, j => j.Generator.Contains("+whisper") || j.Generator.Contains("ked_diphone")
            || j.Generator is "flite:slt" or "flite:awb" or "naturalspeech" or "tacotron2" or "codec2-700C");
    }

    [Fact]
    public void The_plan_is_a_function_of_the_seed()
    {
        var again = new Planner(new CorpusOptions { SharedData = TestPaths.SharedData }).PlanAll();
        Assert.Equal(Full.Value.Select(j => (j.Id, j.Split, j.Generator)), again.Select(j => (j.Id, j.Split, j.Generator)));
        var other = new Planner(new CorpusOptions { SharedData = TestPaths.SharedData, Seed = 99 }).PlanAll();
        Assert.NotEqual(Full.Value.Select(j => (j.Id, j.Split)), other.Select(j => (j.Id, j.Split)));
    }

    [Fact]
    public void Known_prompt_texts_follow_from_file_names_in_each_language()
    {
        var en = new Dictionary<string, string> { ["vm-goodbye"] = "Goodbye!", ["beep"] = "[this is a simple beep tone]" };
        Assert.Equal("Goodbye!", PromptTexts.Known("vm-goodbye", "en", en));
        Assert.Null(PromptTexts.Known("vm-goodbye", "fr", en));
        Assert.Equal("mercredi", PromptTexts.Known("digits/day-3", "fr", en));
        Assert.Equal("marzo", PromptTexts.Known("digits/mon-2", "it", en));
        Assert.Equal("42", PromptTexts.Known("digits/42", "es", en));
        Assert.False(PromptTexts.IsSpeech("beep", en));
        Assert.False(PromptTexts.IsSpeech("silence/3", en));
    }
}
