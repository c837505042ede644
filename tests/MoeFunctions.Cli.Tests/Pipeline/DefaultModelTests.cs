using System.Diagnostics;
using System.Text.Json;
using MoeFunctions.Detection;
using MoeFunctions.Scanning.Contracts;
using MoeFunctions.Scanning.Tests.Local;

namespace MoeFunctions.Cli.Tests.Pipeline;

/// <summary>
/// `moe scan` with the shipped models/default (no --model) on the README demo's kind of input: Asterisk's recorded
/// English voice prompts (Debian asterisk-core-sounds-en-g722, installed by scripts/setup.sh) against espeak-ng speech.
/// A smoke test that the trained bundle is wired in and discriminates, not an accuracy figure (docs/model-card.md has
/// the test-split evaluation).
/// </summary>
public sealed class DefaultModelTests : IDisposable
{
    private readonly ScratchDir _dir = new("moe-default-model");

    public void Dispose() => _dir.Dispose();

    private static string PromptFolder()
    {
        using var p = Process.Start(new ProcessStartInfo("dpkg", "-L asterisk-core-sounds-en-g722") { RedirectStandardOutput = true })!;
        var files = p.StandardOutput.ReadToEnd().Split('\n');
        p.WaitForExit();
        var prompt = files.FirstOrDefault(f => f.EndsWith("/vm-intro.g722", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("asterisk-core-sounds-en-g722 is not installed: run scripts/setup.sh (scripts/deps/demo.apt)");
        return Path.GetDirectoryName(prompt)!;
    }

    [Fact]
    public async Task TheShippedModelTellsRecordedPromptsFromEspeakSpeech()
    {
        // Prompts whose texts the corpus build put in D3's test split (never trained on), as in docs/data.md.
        string[] prompts = ["demo-nomatch", "vm-tempgreeting", "vm-torerecord", "tt-monkeysintro", "queue-thereare", "conf-kicked"];
        var folder = PromptFolder();
        var real = prompts.Select(name =>
        {
            var wav = _dir.File($"real/{name}.wav");
            Directory.CreateDirectory(Path.GetDirectoryName(wav)!);
            TestMedia.Run("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "g722", "-i", Path.Combine(folder, name + ".g722"), wav);
            return wav;
        }).ToList();
        string[] texts =
        [
            "Thank you for calling. Please listen carefully, as our menu options have recently changed.",
            "The person at extension four five two is not available. Please leave a message after the tone.",
            "Your call is important to us. Please stay on the line and the next available agent will answer.",
            "To hear these options again, press the star key. To return to the main menu, press zero.",
        ];
        string[] voices = ["en-us", "en+m3", "en+f2", "en-gb"];
        var fake = texts.Select((t, i) => TestMedia.Speech(_dir.File($"fake/tts-{i}.wav"), t, voices[i])).ToList();

        // The shipped bundle carries the INT8 calibration (`moe quantize`), so both precisions must hold the line, and the
        // default (auto) scans in INT8 on the CPU.
        foreach (var (option, precision) in new[] { ("fp32", "fp32"), ("int8", "int8"), (null, "int8") })
        {
            var json = _dir.File($"r-{option ?? "default"}.json");
            string[] args = ["scan", _dir.File("real"), _dir.File("fake"), "--quiet", "--json", json, .. option is null ? [] : new[] { "--precision", option }];
            var run = await CliRunner.RunAsync(args);
            Assert.Equal(ExitCodes.Ok, run.ExitCode);
            var results = JsonSerializer.Deserialize<ScanResult[]>(File.ReadAllText(json), ScanJson.Options)!;
            Assert.All(results, r => Assert.True(r.Model.Trained, "models/default must be the trained bundle"));
            Assert.All(results, r => Assert.Equal(precision, r.Model.Precision));
            var byPath = results.ToDictionary(r => r.Source.Path!);

            Assert.All(fake, f => Assert.Equal(Verdict.Fake, byPath[f].Verdict));
            Assert.All(real, f => Assert.NotEqual(Verdict.Fake, byPath[f].Verdict));
            Assert.True(fake.Min(f => byPath[f].SpoofProbability!.Value) > real.Max(f => byPath[f].SpoofProbability!.Value),
                $"{precision}: every espeak-ng file should score above every recorded prompt");
        }
    }
}
