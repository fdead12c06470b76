using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Destinations;
using Rampart.Proxy;

namespace Rampart.Host.Demo;

/// <summary>One run of a demo: three backends, Rampart in front, a steady client load, the story's faults on schedule, and what happened.</summary>
internal sealed class DemoRun : IAsyncDisposable
{
    private readonly DemoStory _story;
    private readonly TimeSpan _duration;
    private readonly int _rate;
    private readonly Stopwatch _clock = new();
    private readonly ConcurrentQueue<string> _errorSamples = new();
    private readonly ConcurrentQueue<(TimeSpan At, DestinationState Destination, DestinationTransition Transition)> _transitions = new();
    private readonly Dictionary<string, DemoBackend> _backends;
    private readonly Lock _lock = new();
    private RampartProxyServer? _proxy;
    private Rampart.Proxy.Admin.RampartAdminServer? _admin;
    private HttpClient? _client;
    private long _sent;
    private long _succeeded;
    private long _failed;

    public DemoRun(DemoStory story, TimeSpan duration, int rate)
    {
        _story = story;
        _duration = duration;
        _rate = rate;
        _backends = DemoStory.Backends.ToDictionary(n => n, n => new DemoBackend(n));
    }

    public DemoStory Story => _story;

    public TimeSpan Duration => _duration;

    public TimeSpan Elapsed => _clock.Elapsed;

    public Uri? ProxyAddress { get; private set; }

    public Uri? AdminAddress { get; private set; }

    public IReadOnlyList<DemoBackend> Backends => [.. _backends.Values];

    public IReadOnlyList<DestinationState> Destinations => _proxy?.Proxy.Clusters[0].Destinations ?? [];

    public long Sent => Interlocked.Read(ref _sent);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    public IReadOnlyCollection<string> ErrorSamples => _errorSamples;

    public string CurrentStep { get; private set; } = "Normal operation: three healthy backends";

    /// <summary>Every fault and heal, with when it was detected or when traffic came back.</summary>
    public List<DemoOutcome> Outcomes { get; } = [];

    /// <summary>Raised for every state change of a destination (for plain output).</summary>
    public event Action<TimeSpan, DestinationState, DestinationTransition>? Transition;

    /// <summary>Raised when a scripted step happens.</summary>
    public event Action<TimeSpan, string>? Step;

    public async Task StartAsync()
    {
        foreach (var backend in _backends.Values)
        {
            await backend.StartAsync();
            backend.ServedOne += OnServed;
        }

        var settings = new Dictionary<string, string?>(_story.Settings);
        foreach (var backend in _backends.Values)
        {
            settings[$"Rampart:Clusters:demo:Destinations:{backend.Name}:Address"] = backend.Address.ToString();
        }

        _proxy = await RampartProxyServer.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), "http://127.0.0.1:0");
        ProxyAddress = _proxy.Address;
        _admin = await Rampart.Proxy.Admin.RampartAdminServer.StartAsync(
            _proxy.Proxy, TimeProvider.System, "http://127.0.0.1:0", _proxy.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
        AdminAddress = _admin.Address;
        _client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 })
        {
            BaseAddress = ProxyAddress,
            Timeout = TimeSpan.FromSeconds(10),
        };
        foreach (var destination in Destinations)
        {
            destination.Changed += t =>
            {
                _transitions.Enqueue((_clock.Elapsed, destination, t));
                Transition?.Invoke(_clock.Elapsed, destination, t);
            };
        }
    }

    /// <summary>Plays the story under load until its end or <paramref name="cancellationToken"/>.</summary>
    public async Task PlayAsync(CancellationToken cancellationToken)
    {
        _clock.Start();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var load = RunLoadAsync(stopLoad.Token);
        try
        {
            foreach (var step in _story.Steps)
            {
                var due = _duration * step.At - _clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, cancellationToken);
                }

                await ApplyAsync(step);
            }

            var end = _duration - _clock.Elapsed;
            if (end > TimeSpan.Zero)
            {
                await Task.Delay(end, cancellationToken);
            }

            CurrentStep = "The story is over";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            CurrentStep = "Stopped (Ctrl+C)";
        }
        finally
        {
            await stopLoad.CancelAsync();
            await load;
            _clock.Stop();
        }

        ResolveDetections();
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        foreach (var backend in _backends.Values)
        {
            await backend.DisposeAsync();
        }
    }

    private async Task ApplyAsync(DemoStep step)
    {
        var backend = _backends[step.Backend];
        var at = _clock.Elapsed;
        if (step.Measured)
        {
            lock (_lock)
            {
                Outcomes.Add(new DemoOutcome(step, at));
            }
        }

        await backend.SetAsync(step.Fault);
        CurrentStep = step.Text;
        Step?.Invoke(at, step.Text);
    }

    private void OnServed(DemoBackend backend)
    {
        var now = _clock.Elapsed;
        lock (_lock)
        {
            // The first request a healed backend serves is when it got its traffic back.
            foreach (var outcome in Outcomes)
            {
                if (outcome.Step.Backend == backend.Name && outcome.Step.Fault == DemoFault.None && outcome.ResolvedAt is null)
                {
                    outcome.ResolvedAt = now;
                    outcome.How = "served a client request";
                }
            }
        }
    }

    private void ResolveDetections()
    {
        foreach (var outcome in Outcomes.Where(o => o.Step.Fault != DemoFault.None))
        {
            var detected = _transitions.FirstOrDefault(t => t.At >= outcome.At && t.Destination.Id == outcome.Step.Backend
                && t.Transition.To.IsOut);
            if (detected.Transition is not null)
            {
                outcome.ResolvedAt = detected.At;
                outcome.How = $"{detected.Transition.Signal}: {detected.Transition.Reason}";
            }
        }
    }

    private async Task RunLoadAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / _rate));
        var inFlight = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(SendOneAsync());
            }
        }
        catch (OperationCanceledException)
        {
            // The story is over.
        }

        await Task.WhenAll(inFlight);
    }

    private async Task SendOneAsync()
    {
        Interlocked.Increment(ref _sent);
        try
        {
            using var response = await _client!.GetAsync("/");
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode && body.StartsWith("hello from ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _succeeded);
                return;
            }

            Record($"{(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            Record(ex.GetType().Name + ": " + ex.Message);
        }
    }

    private void Record(string error)
    {
        Interlocked.Increment(ref _failed);
        if (_errorSamples.Count < 10)
        {
            _errorSamples.Enqueue(error);
        }
    }
}

/// <summary>A scripted fault or heal and when Rampart reacted: detected (out of rotation) or traffic back.</summary>
internal sealed class DemoOutcome(DemoStep step, TimeSpan at)
{
    public DemoStep Step { get; } = step;

    public TimeSpan At { get; } = at;

    public TimeSpan? ResolvedAt { get; set; }

    public string How { get; set; } = "";

    public TimeSpan? Delay => ResolvedAt - At;
}
