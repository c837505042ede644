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
Fuzzer.OutOfProcess.Run(stream =>
{
    using var ms = new MemoryStream();
    stream.CopyTo(ms);
    FuzzTarget.Run(ms.ToArray());
});
return 0;
