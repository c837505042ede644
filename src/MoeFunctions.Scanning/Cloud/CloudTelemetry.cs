using System.Diagnostics;

namespace MoeFunctions.Scanning.Cloud;

/// <summary>Trace source of the workflow stages; the app registers it with OpenTelemetry.</summary>
public static class CloudTelemetry
{
    public const string SourceName = "MoeFunctions.Scanning";
    public static readonly ActivitySource Source = new(SourceName);
}
