using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MoeFunctions.TestSupport;

namespace MoeFunctions.App.Tests.Support;

/// <summary>Builds (never starts) the worker host exactly as Program.cs does, with settings given by the test.</summary>
public static class AppTestHost
{
    /// <summary>The Values of local.settings.sample.json: the settings the infra also deploys.</summary>
    public static Dictionary<string, string> SampleSettings()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "local.settings.sample.json")));
        return doc.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
    }

    /// <summary>App settings use "__" for sections, as environment variables do; configuration sees ":".</summary>
    public static IHost Build(IDictionary<string, string> settings, Action<IServiceCollection>? overrides = null)
    {
        var builder = FunctionsApplication.CreateBuilder([]);
        builder.Configuration.AddInMemoryCollection(settings.Select(kv => new KeyValuePair<string, string?>(kv.Key.Replace("__", ":"), kv.Value)));
        // The Functions host passes its gRPC endpoint at start; resolving the worker's hosted services needs one. Never dialled: the host is not started.
        builder.Configuration["Functions:Worker:HostEndpoint"] = "http://127.0.0.1:9";
        builder.Services.AddMoeCloud(builder.Configuration);
        builder.Services.AddMoeTelemetry(builder.Configuration);
        overrides?.Invoke(builder.Services);
        return builder.Build();
    }
}

/// <summary>The FunctionContext the host would pass: an invocation id, the services and a cancellation token. The function classes read nothing else.</summary>
public sealed class TestFunctionContext(IServiceProvider services, string functionName, CancellationToken cancellationToken = default) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();
    public override string FunctionId { get; } = functionName;
    public override TraceContext TraceContext => throw new NotSupportedException("not used by the function classes");
    public override BindingContext BindingContext => throw new NotSupportedException("not used by the function classes");
    public override RetryContext RetryContext => throw new NotSupportedException("not used by the function classes");
    public override IServiceProvider InstanceServices { get; set; } = services;
    public override FunctionDefinition FunctionDefinition => throw new NotSupportedException("not used by the function classes");
    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();
    public override IInvocationFeatures Features => throw new NotSupportedException("not used by the function classes");
    public override CancellationToken CancellationToken { get; } = cancellationToken;
}
