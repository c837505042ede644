// corpus-runner build|audit [--out DIR] [--seed N] [--shared DIR] [--domains D1,D2] [--limit N] [--parallel N]
using MoeFunctions.Corpus;

if (args.Length == 0 || args[0] is not ("build" or "audit"))
{
    Console.Error.WriteLine("usage: corpus-runner build|audit [--out DIR] [--seed N] [--shared DIR] [--domains D1,D2,D3,D4] [--limit N] [--parallel N]");
    return 2;
}
var o = new CorpusOptions();
for (int i = 1; i + 1 < args.Length; i += 2)
{
    o = args[i] switch
    {
        "--out" => o with { Output = args[i + 1] },
        "--seed" => o with { Seed = int.Parse(args[i + 1]) },
        "--shared" => o with { SharedData = args[i + 1] },
        "--domains" => o with { Domains = args[i + 1].Split(',') },
        "--limit" => o with { LimitPerDomain = int.Parse(args[i + 1]) },
        "--parallel" => o with { Parallelism = int.Parse(args[i + 1]) },
        _ => throw new ArgumentException($"unknown option {args[i]}"),
    };
}
if (args[0] == "build")
{
    var result = new CorpusBuilder(o).Build();
    Console.WriteLine(result.Summary);
    if (result.Failures.Count > 0) Console.Error.WriteLine($"{result.Failures.Count} jobs failed; see {Path.Combine(o.Output, "failures.txt")}");
}
var report = ShortcutAudit.Run(Path.Combine(o.Output, "manifest.csv"), o.Seed);
Console.WriteLine(report.ToMarkdown());
File.WriteAllText(Path.Combine(o.Output, "audit.md"), report.ToMarkdown());
return report.Passed ? 0 : 1;
