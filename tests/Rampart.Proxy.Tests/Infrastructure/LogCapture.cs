using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>One log line as written, with the scopes it was written in (each scope's text).</summary>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyList<string> Scopes);

/// <summary>A log provider that keeps every line, from every category, at every level, with its scopes.</summary>
public sealed class LogCapture : ILoggerProvider, IProgressSource, ISupportExternalScope
{
    private readonly List<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Seen)> _waiting = [];
    private IExternalScopeProvider? _scopes;

    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    /// <summary>Raised after each line.</summary>
    public event Action? Progressed;

    /// <summary>The first line, already written or still to come, that matches.</summary>
    public Task<LogEntry> WaitForAsync(Func<LogEntry, bool> match)
    {
        var seen = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiting)
        {
            _waiting.Add((match, seen));
            if (Entries.FirstOrDefault(match) is { } already)
            {
                seen.TrySetResult(already);
            }
        }

        return seen.Task.WaitAsync(Wait.Generous);
    }

    private void Add(LogEntry entry)
    {
        Entries.Enqueue(entry);
        lock (_waiting)
        {
            foreach (var (match, seen) in _waiting.Where(w => w.Match(entry)))
            {
                seen.TrySetResult(entry);
            }
        }

        Progressed?.Invoke();
    }

    public void AddTo(ILoggingBuilder logging)
    {
        logging.AddProvider(this);
        logging.SetMinimumLevel(LogLevel.Debug);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    private List<string> CurrentScopes()
    {
        var scopes = new List<string>();
        _scopes?.ForEachScope(static (scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
        return scopes;
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception, capture.CurrentScopes()));
    }
}
