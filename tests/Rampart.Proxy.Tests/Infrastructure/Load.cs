using System.Collections.Concurrent;
using System.Diagnostics;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>A steady client load of GETs through the proxy, bounded in requests; it records every client-visible outcome.</summary>
public sealed class Load : IProgressSource
{
    private readonly HttpClient _client;
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentDictionary<string, int> _servedBy = new();
    private readonly ConcurrentQueue<TimeSpan> _latencies = new();
    private int _sent;

    public Load(HttpClient client) => _client = client;

    /// <summary>Raised after each request's outcome is recorded.</summary>
    public event Action? Progressed;

    /// <summary>Requests sent so far.</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Every client-visible error: a non-2xx status, a wrong body, or an exception.</summary>
    public IReadOnlyCollection<string> Errors => _errors;

    /// <summary>Successful responses by the backend that served them.</summary>
    public IReadOnlyDictionary<string, int> ServedBy => _servedBy;

    public TimeSpan MaxLatency => _latencies.IsEmpty ? TimeSpan.Zero : _latencies.Max();

    /// <summary>Sends <paramref name="requests"/> GETs from <paramref name="workers"/> concurrent clients.</summary>
    public async Task RunAsync(int requests, int workers = 4, string path = "/")
    {
        var remaining = requests;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await SendOneAsync(path);
            }
        }));
    }

    /// <summary>Sends GETs until <paramref name="until"/> completes (bounded by <paramref name="maxRequests"/>).</summary>
    public async Task RunUntilAsync(Task until, int maxRequests = 20_000, int workers = 4, string path = "/")
    {
        var remaining = maxRequests;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (!until.IsCompleted && Interlocked.Decrement(ref remaining) >= 0)
            {
                await SendOneAsync(path);
            }
        }));
        await until;
    }

    private async Task SendOneAsync(string path)
    {
        Interlocked.Increment(ref _sent);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _client.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode || !body.StartsWith("ok from ", StringComparison.Ordinal))
            {
                _errors.Enqueue($"{(int)response.StatusCode}: {body}");
            }
            else
            {
                _servedBy.AddOrUpdate(body["ok from ".Length..], 1, (_, n) => n + 1);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            _errors.Enqueue(ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            _latencies.Enqueue(Stopwatch.GetElapsedTime(started));
            Progressed?.Invoke();
        }
    }
}
