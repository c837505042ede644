namespace MoeFunctions.TestSupport;

/// <summary>
/// Allocation checks for code that must reuse its buffers. The runtime itself may allocate a few hundred bytes on the
/// test thread (tiered JIT, call counting), so a check counts many calls against a bound far below what even the smallest
/// array per call would add (24 bytes a call), never zero bytes exactly: CI once failed a byte-exact check on 272 bytes.
/// </summary>
public static class Allocations
{
    /// <summary>Bytes allocated on this thread by <paramref name="calls"/> calls of <paramref name="call"/>, after one warm-up call.</summary>
    public static long OnThisThread(int calls, Action call)
    {
        call();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) call();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
