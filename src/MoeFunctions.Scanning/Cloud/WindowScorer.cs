using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Pipeline;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>What the score stage needs from the detector: windows in, calibrated scores out, plus a description of the model.</summary>
public interface IWindowScorer
{
    BundleManifest Manifest { get; }
    ModelSummary Model { get; }
    IReadOnlyList<WindowScore> Score(IReadOnlyList<float[]> windows);
}

/// <summary>
/// The bundle and its ONNX sessions, loaded once per process (a DI singleton) and warmed up with one silent window
/// so the first queued batch does not pay for session initialisation.
/// </summary>
public sealed class BundleWindowScorer : IWindowScorer, IDisposable
{
    private readonly MoeScorer _scorer;

    public BundleWindowScorer(string bundleDirectory, ScorerOptions options, ILogger<BundleWindowScorer> logger)
    {
        var sw = Stopwatch.StartNew();
        var bundle = ModelBundle.Load(bundleDirectory);
        _scorer = new MoeScorer(bundle, options, logger);
        if (options.Device == ExecutionDevice.Cuda && _scorer.ActiveDevice != "cuda")
            logger.LogWarning("Moe__Device is cuda but CUDA is not available here; scoring runs on the CPU");
        _scorer.Score([new float[bundle.Manifest.WindowSamples]]);
        Manifest = bundle.Manifest;
        Model = ScanResultBuilder.Model(_scorer, Manifest.Decision);
        logger.LogInformation("Model bundle {Bundle} {Version} loaded from {Directory} on {Device}, warm-up done in {Ms:F0} ms",
            Manifest.Name, Manifest.Version, bundleDirectory, Model.Device, sw.Elapsed.TotalMilliseconds);
    }

    public BundleManifest Manifest { get; }
    public ModelSummary Model { get; }
    public IReadOnlyList<WindowScore> Score(IReadOnlyList<float[]> windows) => _scorer.Score(windows);
    public void Dispose() => _scorer.Dispose();
}
