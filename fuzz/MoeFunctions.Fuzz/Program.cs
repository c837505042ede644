using MoeFunctions.Fuzz;
using SharpFuzz;

// Modes:
//   (no argument)      AFL++ mode: afl-fuzz runs this process as a fork server (scripts/fuzz.sh afl).
//   --libfuzzer        libFuzzer mode, driven by a libfuzzer-dotnet driver (scripts/fuzz.sh libfuzzer).
//   --run FILE...      replays inputs once (crash reproduction); exit code 1 if any input crashes.
if (args.Length > 0 && args[0] == "--run")
{
    int crashes = 0;
    foreach (var file in args.Skip(1))
    {
        try { Console.WriteLine($"{file}: {FuzzTarget.Run(File.ReadAllBytes(file))} windows (-1 = refused)"); }
        catch (Exception e) { crashes++; Console.WriteLine($"{file}: CRASH {e}"); }
    }
    return crashes == 0 ? 0 : 1;
}
if (args.Length > 0 && args[0] == "--libfuzzer")
{
    Fuzzer.LibFuzzer.Run(span => FuzzTarget.Run(span.ToArray()));
    return 0;
}
// Self-test of the set-up (scripts/fuzz.sh selftest): with MOE_FUZZ_SELFTEST=1 an input starting with the marker
// throws, and AFL++ must report it as a crash; proves a crash in the target is not swallowed anywhere on the way.
bool selfTest = Environment.GetEnvironmentVariable("MOE_FUZZ_SELFTEST") == "1";
Fuzzer.OutOfProcess.Run(stream =>
{
    using var ms = new MemoryStream();
    stream.CopyTo(ms);
    var data = ms.ToArray();
    if (selfTest && data.AsSpan().StartsWith("MOE-FUZZ-SELFTEST"u8)) throw new InvalidOperationException("fuzz self-test crash");
    FuzzTarget.Run(data);
});
return 0;
