using MoeFunctions.Detection;
using MoeFunctions.TestSupport;
using MoeFunctions.Training.Evaluation;

namespace MoeFunctions.Training.Tests;

/// <summary>`moe quantize` on a copy of the shipped bundle with the tiny corpus's TRAIN split, then `moe eval --precision int8`.</summary>
[Collection(TinyCorpusCollection.Name)]
public class QuantizeTests(TinyCorpus corpus)
{
    /// <summary>The shipped bundle without its INT8 calibration, as `moe bundle` writes one.</summary>
    private static string CopyOfShippedBundle() => ShippedBundle.CopyTo(withoutInt8: true);

    [Fact]
    public void Quantize_writes_every_experts_ranges_from_train_windows_and_eval_runs_int8()
    {
        var dir = CopyOfShippedBundle();
        try
        {
            var before = ModelBundle.Load(dir);
            Assert.All(before.Manifest.Experts, e => Assert.Null(e.Int8));
            Assert.Throws<InvalidOperationException>(() => Evaluator.Evaluate(dir, corpus.Root, "dev", bootstrap: 20, log: _ => { }, ExpertPrecision.Int8));

            var lines = new List<string>();
            var result = BundleQuantizer.Quantize(dir, corpus.Root, filesPerDomain: 4, version: "9.9.9-int8", log: lines.Add);

            // 2 domains x (2 bona fide + 2 spoof) TRAIN files, never dev.
            Assert.Equal(8, result.Files);
            var train = corpus.Manifest.Select(split: "train").Select(e => e.Path).ToHashSet();
            Assert.All(BundleQuantizer.CalibrationFiles(corpus.Manifest, 4), e => Assert.Contains(e.Path, train));
            Assert.InRange(result.Windows, 1, 8);

            var after = ModelBundle.Load(dir);
            Assert.Equal("9.9.9-int8", after.Manifest.Version);
            Assert.NotEqual(before.Sha256, after.Sha256);
            Assert.All(after.Manifest.Experts.Zip(before.Manifest.Experts), p =>
            {
                Assert.Equal(p.Second.Sha256, p.First.Sha256); // the ONNX files are untouched
                Assert.Equal(Int8Weights.U8S8ReducedRange, p.First.Int8!.Weights);
                Assert.Equal(ModelNames.LcnnConvs.Order(), p.First.Int8.Ranges.Keys.Order());
                Assert.Contains("TRAIN", p.First.Int8.Calibration);
            });
            Assert.Equal(after.Manifest.Experts.Select(e => e.Name), result.Changes.Select(c => c.Expert));
            Assert.All(result.Changes, c => Assert.InRange(c.MaxBonafideChange, 0, 0.5));
            Assert.Contains(lines, l => l.Contains("largest |P(bona fide) INT8 - FP32|"));

            var report = Evaluator.Evaluate(dir, corpus.Root, "dev", bootstrap: 20, log: _ => { }, ExpertPrecision.Int8);
            Assert.Contains("INT8", report.Notes);
            Assert.Contains(report.Rows, r => r.System == "classic MoE sparse top-2" && r.Domain == "pooled");
            Assert.All(report.Rows, r => Assert.InRange(r.Eer, 0, 1));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Quantize_without_train_files_is_refused_and_leaves_the_bundle_alone()
    {
        var dir = CopyOfShippedBundle();
        var corpusDir = Directory.CreateTempSubdirectory("moe-quantize-devonly-").FullName;
        try
        {
            var devOnly = File.ReadAllLines(Path.Combine(corpus.Root, "manifest.csv")).Where((l, i) => i == 0 || l.Contains(",dev,"));
            File.WriteAllLines(Path.Combine(corpusDir, "manifest.csv"), devOnly);
            var manifest = File.ReadAllText(Path.Combine(dir, ModelBundle.ManifestFile));
            var e = Assert.Throws<InvalidOperationException>(() => BundleQuantizer.Quantize(dir, corpusDir, log: _ => { }));
            Assert.Contains("TRAIN", e.Message);
            Assert.Equal(manifest, File.ReadAllText(Path.Combine(dir, ModelBundle.ManifestFile)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(corpusDir, recursive: true);
        }
    }
}
