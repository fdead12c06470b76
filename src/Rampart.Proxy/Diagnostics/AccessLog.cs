using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rampart.Diagnostics;
using Rampart.Failover;
using Rampart.Proxy.Configuration;

namespace Rampart.Proxy.Diagnostics;

/// <summary>One proxied request, as the access log tells it.</summary>
/// <param name="Time">When the request reached Rampart.</param>
/// <param name="Duration">How long it took, until its answer was written.</param>
/// <param name="Client">The client's address.</param>
/// <param name="Method">The request's method.</param>
/// <param name="Target">The request's target (path and query) as the client sent it.</param>
/// <param name="Status">The status the client got (0 when the connection was cut instead).</param>
/// <param name="Cluster">The cluster it went to.</param>
/// <param name="Result">What the attempts came to: the destination that answered, how many were tried, the outcome.</param>
/// <param name="Bytes">The response body's bytes sent to the client.</param>
/// <param name="Refused">Answered by Rampart without forwarding (CONNECT, a body over the limit).</param>
internal readonly record struct AccessLogEntry(
    DateTimeOffset Time, TimeSpan Duration, string? Client, string Method, string Target, int Status, string Cluster, FailoverResult Result, long Bytes, bool Refused = false);

/// <summary>
/// <c>Rampart:AccessLog</c>: one JSON line per proxied request, to standard output or a file, written off the request
/// path — a request only adds its entry to a bounded queue (dropped, and counted, when the writer falls behind).
/// </summary>
internal sealed partial class AccessLog : IHostedService, IAsyncDisposable, IDisposable
{
    private const int Capacity = 16 * 1024;
    private readonly Channel<AccessLogEntry> _entries = Channel.CreateBounded<AccessLogEntry>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly AccessLogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LogThrottle _dropWarnings;
    private Task? _writing;
    private long _dropped;
    private long _reportedDrops;

    public AccessLog(RampartOptions options, ILoggerFactory loggers, TimeProvider time)
    {
        _options = options.AccessLog;
        _time = time;
        _logger = loggers.CreateLogger("Rampart.AccessLog");
        _dropWarnings = new LogThrottle(time);
    }

    /// <summary>Whether it writes at all (<c>Rampart:AccessLog:Enabled</c>).</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>Entries dropped because the writer fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>When a request starts (a timestamp of the log's clock, for <see cref="Add"/>).</summary>
    public long Start() => _time.GetTimestamp();

    /// <summary>
    /// Queues the line of a request that <paramref name="started"/> and is answered now: its time and duration are taken
    /// here, once. Never waits; drops the line when the queue is full.
    /// </summary>
    public void Add(long started, string? client, string method, string target, int status, string cluster, in FailoverResult result, long bytes, bool refused = false)
    {
        var duration = _time.GetElapsedTime(started);
        var entry = new AccessLogEntry(_time.GetUtcNow() - duration, duration, client, method, target, status, cluster, result, refused ? 0 : bytes, refused);
        if (!_entries.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            var output = _options.Path.Length == 0
                ? Console.OpenStandardOutput()
                : new FileStream(_options.Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
            _writing = Task.Run(() => WriteAsync(output), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _entries.Writer.TryComplete();
        if (_writing is not null)
        {
            await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    /// <summary>Ends the queue (a container disposed synchronously); the writer writes what is queued and stops.</summary>
    public void Dispose() => _entries.Writer.TryComplete();

    private async Task WriteAsync(Stream output)
    {
        await using (output.ConfigureAwait(false))
        {
            var buffer = new ArrayBufferWriter<byte>(64 * 1024);
            using var json = new Utf8JsonWriter(buffer);
            var reader = _entries.Reader;
            try
            {
                while (await reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    // Everything queued, then one write: lines in batches under load, at once when quiet.
                    while (reader.TryRead(out var entry))
                    {
                        Write(json, entry);
                        json.Reset();
                        buffer.Write("\n"u8);
                        if (buffer.WrittenCount > 60 * 1024)
                        {
                            await output.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
                            buffer.ResetWrittenCount();
                        }
                    }

                    await output.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
                    await output.FlushAsync().ConfigureAwait(false);
                    buffer.ResetWrittenCount();
                    ReportDrops();
                }
            }
            catch (IOException ex)
            {
                Log.WriteFailed(_logger, _options.Path.Length == 0 ? "standard output" : _options.Path, ex);
            }
        }
    }

    // Lines dropped since the last report: one warning at most every 10 s, with the count.
    private void ReportDrops()
    {
        var dropped = Dropped;
        if (dropped != _reportedDrops && _dropWarnings.TryEnter("access log", "dropped", out _))
        {
            Log.Dropped(_logger, dropped - _reportedDrops, dropped);
            _reportedDrops = dropped;
        }
    }

    private static void Write(Utf8JsonWriter json, in AccessLogEntry entry)
    {
        var result = entry.Result;
        json.WriteStartObject();
        json.WriteString("time"u8, entry.Time);
        json.WriteString("client"u8, entry.Client);
        json.WriteString("method"u8, entry.Method);
        json.WriteString("target"u8, entry.Target);
        json.WriteNumber("status"u8, entry.Status);
        json.WriteNumber("duration_ms"u8, Math.Round(entry.Duration.TotalMilliseconds, 3));
        json.WriteString("cluster"u8, entry.Cluster);
        json.WriteString("destination"u8, result.Destination?.Id);
        json.WriteNumber("attempts"u8, result.Attempts);
        json.WriteString("outcome"u8, entry.Refused ? "refused" : Outcome(result.Outcome));
        json.WriteNumber("bytes"u8, entry.Bytes);
        json.WriteEndObject();
        json.Flush();
    }

    private static string Outcome(FailoverOutcome outcome) => outcome switch
    {
        FailoverOutcome.Answered => "answered",
        FailoverOutcome.NoDestination => "no_destination",
        FailoverOutcome.Failed => "failed",
        FailoverOutcome.CallerGone => "client_gone",
        _ => "response_broken",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Error, Message = "The access log could not be written to {Output}; no more lines are written")]
        public static partial void WriteFailed(ILogger logger, string output, Exception exception);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "The access log fell behind: {Count} lines dropped ({Total} in all)")]
        public static partial void Dropped(ILogger logger, long count, long total);
    }
}
