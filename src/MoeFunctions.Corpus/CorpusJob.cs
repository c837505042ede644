namespace MoeFunctions.Corpus;

/// <summary>
/// One source item of the corpus: produces raw audio (a recording, or a synthesiser/vocoder output), which the
/// builder then trims, levels, sends through the domain's channel path and writes as one or more files.
/// </summary>
public sealed class CorpusJob
{
    /// <summary>Stable id, also the output path stem relative to the corpus root, e.g. "D1/spoof/ls-103-1240-0000-lpc".</summary>
    public required string Id { get; init; }
    public required string Domain { get; init; }
    public required string Label { get; init; }
    public required string Speaker { get; init; }
    public required string Source { get; init; }
    public required string Generator { get; init; }
    public required string License { get; init; }
    /// <summary>Items sharing a group (speaker, source recording or prompt text) always share a split.</summary>
    public required string Group { get; init; }
    public double ApproxSeconds { get; init; }
    public string Split { get; set; } = "";
    /// <summary>Cut into 3-8 s pieces after trimming (D2, whose sources range from 2 s to 4 min).</summary>
    public bool Segment { get; init; }
    /// <summary>Groups are split 80/10/10 within each stratum (SplitAssigner); null: one stratum per domain.</summary>
    public string? Stratum { get; init; }
    /// <summary>A bona fide job whose trimmed duration this spoof job's synthesis is rate-matched to.</summary>
    public string? PairId { get; init; }
    public required Func<JobContext, Signal?> Produce { get; init; }
    public required Func<Random, ChannelPath> DrawPath { get; init; }
}

/// <param name="Rng">The job's own generator, seeded from the corpus seed and the job id.</param>
/// <param name="TargetSeconds">Trimmed duration of the paired bona fide item, when there is one.</param>
public sealed record JobContext(Random Rng, double? TargetSeconds);

public static class StableHash
{
    /// <summary>FNV-1a 64: stable across runs and platforms, unlike string.GetHashCode.</summary>
    public static ulong Of(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in s) { h ^= c; h *= 1099511628211UL; }
        return h;
    }

    public static Random Rng(int seed, string key) => new((int)(Of(seed.ToString() + "/" + key) & 0x7FFFFFFF));
}

/// <summary>
/// Assigns whole groups to train/dev/test (80/10/10 of the audio), greedily in a seeded order, so splits
/// are disjoint by group and roughly balanced in minutes. With strata, each stratum is split 80/10/10 on its own,
/// so every split gets its share of each kind of source (D2: without them its dev split held no test-other speech).
/// </summary>
public static class SplitAssigner
{
    /// <param name="stratumOf">The stratum of each group; null puts every group in one stratum.</param>
    public static Dictionary<string, string> Assign(IReadOnlyDictionary<string, double> groupSeconds, int seed, string salt,
        Func<string, string>? stratumOf = null)
    {
        if (stratumOf is null) return AssignOne(groupSeconds, seed, salt);
        var result = new Dictionary<string, string>();
        foreach (var stratum in groupSeconds.Keys.GroupBy(stratumOf))
            foreach (var (g, split) in AssignOne(stratum.ToDictionary(g => g, g => groupSeconds[g]), seed, salt))
                result[g] = split;
        return result;
    }

    static Dictionary<string, string> AssignOne(IReadOnlyDictionary<string, double> groupSeconds, int seed, string salt)
    {
        var fractions = new Dictionary<string, double> { ["train"] = 0.8, ["dev"] = 0.1, ["test"] = 0.1 };
        var assigned = fractions.Keys.ToDictionary(k => k, _ => 0.0);
        var order = groupSeconds.Keys.OrderBy(k => k, StringComparer.Ordinal)
            .OrderBy(k => StableHash.Of($"{seed}/{salt}/{k}")).ToList();
        var result = new Dictionary<string, string>();
        double total = 0;
        foreach (var g in order)
        {
            double sec = Math.Max(groupSeconds[g], 1e-3);
            total += sec;
            // The split furthest below its share of the audio so far takes the group.
            var split = fractions.Keys.OrderByDescending(s => fractions[s] * total - assigned[s]).First();
            assigned[split] += sec;
            result[g] = split;
        }
        return result;
    }
}
