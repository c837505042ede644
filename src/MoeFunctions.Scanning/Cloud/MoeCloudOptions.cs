using Microsoft.Extensions.Options;
using MoeFunctions.Detection;

namespace MoeFunctions.Scanning.Cloud;

public enum DeploymentRole { All, Ingest, Score }

public enum NotifierKind { StorageQueue, ServiceBus }

/// <summary>The "Moe" settings section (Moe__X app settings). Every key is listed in local.settings.sample.json.</summary>
public sealed class MoeCloudOptions
{
    public const string Section = "Moe";

    /// <summary>Documents which functions this deployment runs; the AzureWebJobs.X.Disabled settings do the disabling.</summary>
    public DeploymentRole Role { get; set; } = DeploymentRole.All;
    public string UploadsContainer { get; set; } = "uploads";
    public string ClipsContainer { get; set; } = "clips";
    public string ResultsContainer { get; set; } = "results";
    public string ClipsQueue { get; set; } = "clips-to-score";
    public string ScansTable { get; set; } = "scans";
    public NotifierKind Notifier { get; set; } = NotifierKind.StorageQueue;
    /// <summary>Storage queue the StorageQueue notifier writes to.</summary>
    public string NotificationQueue { get; set; } = "scan-results";
    public ServiceBusNotifierOptions ServiceBus { get; set; } = new();
    /// <summary>Model bundle folder, relative to the app's base directory or absolute.</summary>
    public string ModelPath { get; set; } = "models/default";
    /// <summary>cpu or cuda; cuda falls back to cpu with a warning when CUDA is missing.</summary>
    public string Device { get; set; } = "cpu";
    /// <summary>Auto (int8 on the CPU when the bundle is calibrated by `moe quantize`, fp32 on CUDA), Fp32, or Int8 (CPU only).</summary>
    public ExpertPrecision Precision { get; set; } = ExpertPrecision.Auto;
    public RoutingMode? Mode { get; set; }
    public int? TopK { get; set; }
    /// <summary>Windows per clip batch (one queue message each).</summary>
    public int BatchWindows { get; set; } = 64;
    public long MaxUploadBytes { get; set; } = 4L * 1024 * 1024 * 1024;
    public double MaxDurationSeconds { get; set; } = 6 * 3600;

    public ExecutionDevice ExecutionDevice =>
        string.Equals(Device, "cuda", StringComparison.OrdinalIgnoreCase) ? ExecutionDevice.Cuda : ExecutionDevice.Cpu;
}

public sealed class ServiceBusNotifierOptions
{
    /// <summary>e.g. mybus.servicebus.windows.net; used with DefaultAzureCredential in Azure.</summary>
    public string? FullyQualifiedNamespace { get; set; }
    /// <summary>Development only (emulator); Azure deployments use the namespace and managed identity.</summary>
    public string? ConnectionString { get; set; }
    public string QueueName { get; set; } = "scan-results";
}

/// <summary>Start-up validation: every message names the app setting to fix.</summary>
public sealed class MoeCloudOptionsValidator : IValidateOptions<MoeCloudOptions>
{
    public ValidateOptionsResult Validate(string? name, MoeCloudOptions o)
    {
        var errors = new List<string>();
        void Require(string? value, string setting)
        {
            if (string.IsNullOrWhiteSpace(value)) errors.Add($"Setting {setting} is missing or empty.");
        }
        Require(o.UploadsContainer, "Moe__UploadsContainer");
        Require(o.ClipsContainer, "Moe__ClipsContainer");
        Require(o.ResultsContainer, "Moe__ResultsContainer");
        Require(o.ClipsQueue, "Moe__ClipsQueue");
        Require(o.ScansTable, "Moe__ScansTable");
        if (o.BatchWindows is < 1 or > 512)
            errors.Add($"Setting Moe__BatchWindows must be between 1 and 512 (a queue message lists every window of its batch); got {o.BatchWindows}.");
        if (o.MaxUploadBytes <= 0) errors.Add("Setting Moe__MaxUploadBytes must be positive.");
        if (o.MaxDurationSeconds <= 0) errors.Add("Setting Moe__MaxDurationSeconds must be positive.");
        if (o.TopK is < 1) errors.Add("Setting Moe__TopK must be at least 1 when set.");
        if (!string.Equals(o.Device, "cpu", StringComparison.OrdinalIgnoreCase) && !string.Equals(o.Device, "cuda", StringComparison.OrdinalIgnoreCase))
            errors.Add($"Setting Moe__Device must be cpu or cuda; got '{o.Device}'.");
        if (o.Precision == ExpertPrecision.Int8 && o.ExecutionDevice == ExecutionDevice.Cuda)
            errors.Add("Setting Moe__Precision int8 runs on the CPU only; set Moe__Device to cpu or Moe__Precision to fp32.");
        if (o.Role is DeploymentRole.All or DeploymentRole.Score) Require(o.ModelPath, "Moe__ModelPath");
        switch (o.Notifier)
        {
            case NotifierKind.StorageQueue:
                Require(o.NotificationQueue, "Moe__NotificationQueue");
                break;
            case NotifierKind.ServiceBus:
                if (string.IsNullOrWhiteSpace(o.ServiceBus.FullyQualifiedNamespace) && string.IsNullOrWhiteSpace(o.ServiceBus.ConnectionString))
                    errors.Add("Setting Moe__ServiceBus__FullyQualifiedNamespace is missing or empty (Moe__Notifier is ServiceBus).");
                Require(o.ServiceBus.QueueName, "Moe__ServiceBus__QueueName");
                break;
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
