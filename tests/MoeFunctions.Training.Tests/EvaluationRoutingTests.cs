using MoeFunctions.Detection;
using MoeFunctions.Training.Evaluation;

namespace MoeFunctions.Training.Tests;

public class EvaluationRoutingTests
{
    private static WindowScore Window(params float[] gate) => new(0.5, 0.5, gate, [0.5f, 0.5f]);

    [Fact]
    public void Routing_counts_each_domains_speech_windows_by_where_the_gate_puts_its_largest_weight()
    {
        var scores = new[]
        {
            Window(0.7f, 0.3f), Window(0.4f, 0.6f), Window(0.9f, 0.1f), // file 0 (D1): two speech windows, then its middle window
            Window(0.2f, 0.8f), Window(0.5f, 0.5f), Window(0.1f, 0.9f), // file 1 (D2): a tie is not a top weight
            Window(0.6f, 0.4f),                                          // file 2 (D3, no expert): its middle window only
        };
        var files = new List<FileWindows> { new(0, 2, 2), new(3, 2, 5), new(6, 0, 6) };
        var experts = new List<ExpertEntry>
        {
            new() { Name = "expert-D1", Domain = "D1", File = "a.onnx", Sha256 = "" },
            new() { Name = "expert-D2", Domain = "D2", File = "b.onnx", Sha256 = "" },
        };

        var rows = Evaluator.Routing("classic", scores, files, ["D1", "D2", "D3"], experts).ToList();

        Assert.Equal(2, rows.Count);
        Assert.Equal(("classic", "D1", "expert-D1", 2), (rows[0].Gate, rows[0].Domain, rows[0].Expert, rows[0].Windows));
        Assert.Equal(0.5, rows[0].TopWeightOnOwn, 9);
        Assert.Equal(0.55, rows[0].MeanWeightOnOwn, 6);
        Assert.Equal(("D2", 2), (rows[1].Domain, rows[1].Windows));
        Assert.Equal(0.5, rows[1].TopWeightOnOwn, 9);
        Assert.Equal(0.65, rows[1].MeanWeightOnOwn, 6);
    }
}
