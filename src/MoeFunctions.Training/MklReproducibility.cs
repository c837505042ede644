using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MoeFunctions.Training;

/// <summary>
/// Turns on MKL's conditional numerical reproducibility for the libtorch in this process. Without it MKL, linked into
/// libtorch, may pick a different summation order for the same matrix product from one process to the next, so the
/// classic gate (one Linear(48000 -> E)) trained to different bytes with the same seed and data (docs/training.md,
/// "Repeatability"). <c>MKL_CBWR=AUTO</c> keeps the fastest code path for this CPU and makes it repeatable; MKL reads the
/// variable once, when it starts, so it is set in the native environment as this assembly loads, before any torch call.
/// A value the user set is left alone.
/// </summary>
public static partial class MklReproducibility
{
    public const string Variable = "MKL_CBWR", Value = "AUTO";

#pragma warning disable CA2255 // a library module initializer is the point: it must run before the first torch call
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Enable()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) is not null) return;
        // .NET keeps its own copy of the environment on Unix; native code (MKL) reads libc's.
        setenv(Variable, Value, 0);
        Environment.SetEnvironmentVariable(Variable, Value);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
