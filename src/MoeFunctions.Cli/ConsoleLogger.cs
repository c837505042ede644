using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace MoeFunctions.Cli;

/// <summary>Shows the scorer's warnings (e.g. "CUDA unavailable, using CPU") on the console; ignores chatter below Warning.</summary>
public sealed class ConsoleLogger(IAnsiConsole console) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        var label = logLevel >= LogLevel.Error ? "[red]error:[/]" : "[yellow]warning:[/]";
        console.MarkupLine($"{label} {Markup.Escape(formatter(state, exception))}");
    }
}
