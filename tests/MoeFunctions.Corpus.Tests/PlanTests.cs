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
    public void Every_D2_source_has_audio_in_every_split()
    {
        // D2's splits are stratified by source, so dev can measure what test measures: before, dev held no
        // LibriSpeech test-other speech and one file of most cloning systems (docs/data.md).
        var d2 = Full.Value.Where(j => j.Domain == "D2").ToList();
        foreach (var stratum in d2.GroupBy(j => j.Stratum))
        {
            Assert.NotNull(stratum.Key);
            double total = stratum.Sum(j => j.ApproxSeconds);
            foreach (var split in ManifestRow.Splits)
                Assert.InRange(stratum.Where(j => j.Split == split).Sum(j => j.ApproxSeconds) / total,
                    split == "train" ? 0.6 : 0.04, split == "train" ? 0.9 : 0.25);
        }
        // Whole demo-page rows and folders hold several generators, so a generator is not its own stratum, but every
        // source's fakes (MobileSpeech's are the zero-shot cloning systems) reach every split.
        foreach (var source in d2.Where(j => j.Label == "spoof").GroupBy(j => j.Stratum))
            Assert.All(ManifestRow.Splits, split => Assert.True(source.Count(j => j.Split == split) >= 3,
                $"{source.Key}: {string.Join(", ", source.GroupBy(j => j.Split).Select(g => $"{g.Key} {g.Count()}"))}"));
        Assert.Contains(d2, j => j.Stratum == "ls-test-other" && j.Split == "dev");
    }

    [Fact]
    public void Strata_are_split_on_their_own_and_no_strata_leaves_the_split_as_before()
    {
        // 3 strata x 30 groups of equal length: each stratum gets its own 80/10/10.
        var groups = Enumerable.Range(0, 90).ToDictionary(i => $"g{i:00}", _ => 10.0);
        string Stratum(string g) => "s" + int.Parse(g[1..]) % 3;
        var split = SplitAssigner.Assign(groups, 7, "t", Stratum);
        foreach (var s in groups.Keys.GroupBy(Stratum))
        {
            Assert.Equal(24, s.Count(g => split[g] == "train"));
            Assert.Equal(3, s.Count(g => split[g] == "dev"));
            Assert.Equal(3, s.Count(g => split[g] == "test"));
        }
        // One stratum for all is the unstratified assignment (D1, D3 and D4 keep their splits).
        Assert.Equal(SplitAssigner.Assign(groups, 7, "t"), SplitAssigner.Assign(groups, 7, "t", _ => "all"));
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
