using MoeFunctions.Detection;
using MoeFunctions.TestSupport;

namespace MoeFunctions.Detection.Tests;

/// <summary>INT8 scoring through the bundle: experts[].int8 in moe.json, checked at load, quantized by <see cref="MoeScorer"/>
/// when <see cref="ScorerOptions.Precision"/> asks for it.</summary>
public sealed class Int8ScorerTests(QuantizerFixture data) : IClassFixture<QuantizerFixture>
{
    /// <summary>A copy of the shipped bundle with every expert calibrated on the fixture's calibration windows.</summary>
    private static BundleManifest CalibratedCopy(string dir, QuantizerFixture data)
    {
        var shipped = ModelBundle.Load(Path.Combine(Repository.Root, "models", "default"));
        foreach (var f in Directory.GetFiles(shipped.Directory)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var experts = shipped.Manifest.Experts.Select(x => x with
        {
            Int8 = new ExpertInt8
            {
                Ranges = ExpertQuantizer.Calibrate(ExpertQuantizer.ReadWeights(File.ReadAllBytes(shipped.PathOf(x.File))), data.Calibration),
                Calibration = "espeak-ng test windows",
            },
        }).ToList();
        return BundleWriter.WriteManifest(dir, shipped.Manifest with { Experts = experts });
    }

    [Fact]
    public void Int8_scores_follow_fp32_and_the_ranges_round_trip_through_moe_json()
    {
        using var dir = new TempDir();
        var written = CalibratedCopy(dir.Path, data);
        var bundle = ModelBundle.Load(dir.Path);
        for (var e = 0; e < written.Experts.Count; e++)
            Assert.Equal(written.Experts[e].Int8!.Ranges.OrderBy(p => p.Key), bundle.Manifest.Experts[e].Int8!.Ranges.OrderBy(p => p.Key));
        Assert.Contains("\"u8s8-7bit\"", File.ReadAllText(dir.File(ModelBundle.ManifestFile)));

        var dense = new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced };
        using var fp32 = new MoeScorer(bundle, dense);
        using var int8 = new MoeScorer(bundle, dense with { Precision = ExpertPrecision.Int8 });
        Assert.Equal(ExpertPrecision.Fp32, fp32.Precision);
        Assert.Equal(ExpertPrecision.Int8, int8.Precision);
        var (a, b) = (fp32.Score(data.EvaluationWindows), int8.Score(data.EvaluationWindows));
        var diffs = a.Zip(b).SelectMany(p => p.First.ExpertBonafide.Zip(p.Second.ExpertBonafide, (x, y) => Math.Abs(x - y))).ToList();
        // Same bound as ExpertQuantizerTests: the scorer must build the same INT8 graph the quantizer does.
        Assert.True(diffs.Max() <= 0.02, $"INT8 moved an expert's P(bona fide) by {diffs.Max():G3}");
        Assert.True(diffs.Max() > 0, "INT8 scores are bit-identical to FP32: the experts were not quantized");
        Assert.All(b, s => Assert.InRange(s.SpoofProbability, 0, 1));
    }

    [Fact]
    public void Int8_without_calibration_or_on_cuda_is_refused_with_the_fix()
    {
        using var dir = new TempDir();
        var m = CalibratedCopy(dir.Path, data);
        var experts = m.Experts.ToList();
        experts[2] = experts[2] with { Int8 = null };
        using (var plain = new TempDir())
        {
            foreach (var f in Directory.GetFiles(dir.Path)) File.Copy(f, Path.Combine(plain.Path, Path.GetFileName(f)));
            BundleWriter.WriteManifest(plain.Path, m with { Experts = experts });
            var e = Assert.Throws<InvalidOperationException>(() => new MoeScorer(ModelBundle.Load(plain.Path), new ScorerOptions { Precision = ExpertPrecision.Int8 }));
            Assert.Contains("moe quantize", e.Message);
            Assert.Contains($"'{experts[2].Name}'", e.Message);
        }

        var calibrated = ModelBundle.Load(dir.Path);
        var cuda = Assert.Throws<InvalidOperationException>(() =>
            new MoeScorer(calibrated, new ScorerOptions { Precision = ExpertPrecision.Int8, Device = ExecutionDevice.Cuda }));
        Assert.Contains("CPU only", cuda.Message);
    }

    [Fact]
    public void Auto_is_int8_on_a_calibrated_bundle_on_the_cpu_and_fp32_elsewhere()
    {
        using var dir = new TempDir();
        var m = CalibratedCopy(dir.Path, data);
        var calibrated = ModelBundle.Load(dir.Path);
        var dense = new ScorerOptions { Mode = RoutingMode.Dense, Gate = GateKind.Enhanced };
        using (var auto = new MoeScorer(calibrated, dense with { Precision = ExpertPrecision.Auto }))
        using (var int8 = new MoeScorer(calibrated, dense with { Precision = ExpertPrecision.Int8 }))
        {
            Assert.Equal(ExpertPrecision.Int8, auto.Precision);
            Assert.Equal(int8.Score(data.EvaluationWindows).Select(s => s.SpoofProbability), auto.Score(data.EvaluationWindows).Select(s => s.SpoofProbability));
        }

        // CUDA (or its CPU fallback on a machine without it) keeps FP32 instead of refusing, as explicit Int8 does.
        using (var cuda = new MoeScorer(calibrated, dense with { Precision = ExpertPrecision.Auto, Device = ExecutionDevice.Cuda }))
            Assert.Equal(ExpertPrecision.Fp32, cuda.Precision);

        // One uncalibrated expert: FP32 for the whole bundle, no error.
        var experts = m.Experts.ToList();
        experts[0] = experts[0] with { Int8 = null };
        using var plain = new TempDir();
        foreach (var f in Directory.GetFiles(dir.Path)) File.Copy(f, Path.Combine(plain.Path, Path.GetFileName(f)));
        BundleWriter.WriteManifest(plain.Path, m with { Experts = experts });
        using var fallback = new MoeScorer(ModelBundle.Load(plain.Path), new ScorerOptions { Precision = ExpertPrecision.Auto });
        Assert.Equal(ExpertPrecision.Fp32, fallback.Precision);
    }

    [Theory]
    [InlineData("missing conv")]
    [InlineData("min above max")]
    public void A_bad_int8_calibration_in_moe_json_fails_the_bundle_at_load(string damage)
    {
        using var dir = new TempDir();
        var m = CalibratedCopy(dir.Path, data);
        var x = m.Experts[1];
        var ranges = x.Int8!.Ranges.ToDictionary();
        var conv = ModelNames.LcnnConvs[3];
        switch (damage)
        {
            case "missing conv": ranges.Remove(conv); break;
            default: ranges[conv] = ranges[conv] with { OutputMin = ranges[conv].OutputMax + 1 }; break;
        }
        var experts = m.Experts.ToList();
        experts[1] = x with { Int8 = x.Int8 with { Ranges = ranges } };
        File.WriteAllText(dir.File(ModelBundle.ManifestFile), System.Text.Json.JsonSerializer.Serialize(m with { Experts = experts }, BundleJson.Options));

        var error = Assert.Throws<BundleException>(() => ModelBundle.Load(dir.Path));
        Assert.Contains($"expert '{x.Name}'", error.Message);
        Assert.Contains(damage == "missing conv" ? $"lacks conv {conv}" : $"conv {conv} must be finite with min <= max", error.Message);
    }
}
