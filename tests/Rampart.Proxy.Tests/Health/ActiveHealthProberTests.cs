using Microsoft.Extensions.Logging.Abstractions;
using Rampart.CircuitBreaking;
using Rampart.Destinations;
using Rampart.Health;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Health;

/// <summary>The prober against real Kestrel backends on 127.0.0.1 whose behaviour switches at run time.</summary>
public sealed class ActiveHealthProberTests : IAsyncLifetime
{
    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
    private readonly List<TestBackend> _backends = [];
    private ActiveHealthProber? _prober;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_prober is not null)
        {
            await _prober.StopAsync(CancellationToken.None);
            _prober.Dispose();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        _client.Dispose();
    }

    [Fact]
    public async Task HealthyBackend_BecomesHealthyOnTheFirstProbe()
    {
        var (backend, destination) = await SetUpAsync();
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);

        await StartProberAsync(destination);

        Assert.Equal("first probe passed: 200", (await healthy).Reason);
        Assert.Equal(ActiveHealthState.Healthy, destination.ActiveHealth);
        Assert.True(backend.Requests >= 1);
    }

    [Fact]
    public async Task BackendAnswering500_BecomesUnhealthy_AndRecovers()
    {
        var (backend, destination) = await SetUpAsync();
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        await StartProberAsync(destination);
        await healthy;

        var unhealthy = Wait.ForActiveAsync(destination, ActiveHealthState.Unhealthy);
        backend.Mode = BackendMode.Error;
        Assert.Equal("2 consecutive probe failures: status 500", (await unhealthy).Reason);
        Assert.False(destination.IsAvailable);

        var recovered = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        backend.Mode = BackendMode.Ok;
        Assert.Equal("2 consecutive probe passes: 200", (await recovered).Reason);
        Assert.True(destination.IsAvailable);
    }

    [Fact]
    public async Task WrongBody_FailsTheProbe()
    {
        var (_, destination) = await SetUpAsync(BackendMode.WrongBody, o => o.BodyContains = "ok from");
        var unhealthy = Wait.ForActiveAsync(destination, ActiveHealthState.Unhealthy);

        await StartProberAsync(destination);

        Assert.Equal("2 consecutive probe failures: body did not contain 'ok from'", (await unhealthy).Reason);
    }

    [Fact]
    public async Task UnexpectedStatus_FailsTheProbe_ExpectedStatusPasses()
    {
        var (backend, destination) = await SetUpAsync(BackendMode.Error, o => o.ExpectedStatus = "200-299,500");
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        await StartProberAsync(destination);
        Assert.Equal("first probe passed: 500", (await healthy).Reason);
        Assert.True(backend.Requests >= 1);
    }

    [Fact]
    public async Task HangingBackend_TimesOut()
    {
        var (backend, destination) = await SetUpAsync(BackendMode.Hang, o => o.Timeout = TimeSpan.FromMilliseconds(300));
        var unhealthy = Wait.ForActiveAsync(destination, ActiveHealthState.Unhealthy);

        await StartProberAsync(destination);

        Assert.Equal("2 consecutive probe failures: timed out after 00:00:00.3000000", (await unhealthy).Reason);
        await backend.AbortSeen.WaitAsync(Wait.Generous); // the timed-out probe's request was really cancelled
        Assert.False(destination.LastProbe!.Value.Result.Passed);
    }

    [Fact]
    public async Task StoppedBackend_IsRefused_AndRecoversWhenRestarted()
    {
        var (backend, destination) = await SetUpAsync();
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        await StartProberAsync(destination);
        await healthy;

        var unhealthy = Wait.ForActiveAsync(destination, ActiveHealthState.Unhealthy);
        await backend.StopAsync();
        Assert.Equal("2 consecutive probe failures: connection refused", (await unhealthy).Reason);

        var recovered = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        await backend.RestartAsync();
        await recovered;
        Assert.True(destination.IsAvailable);
    }

    [Fact]
    public async Task TcpProbe_FollowsWhetherTheBackendAccepts()
    {
        var (backend, destination) = await SetUpAsync(BackendMode.Error, o => o.Mode = ProbeMode.Tcp);
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        await StartProberAsync(destination);
        Assert.Equal("first probe passed: connected", (await healthy).Reason); // a 500 does not matter to TCP

        var unhealthy = Wait.ForActiveAsync(destination, ActiveHealthState.Unhealthy);
        await backend.StopAsync();
        Assert.EndsWith("connection refused", (await unhealthy).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HungDestination_DoesNotDelayTheOthers()
    {
        var (_, hung) = await SetUpAsync(BackendMode.Hang, o => o.Timeout = TimeSpan.FromSeconds(3));
        var (fine, ok) = await SetUpAsync();
        var probesOfTheOtherWhenTheHungOneTimedOut = -1;
        var timedOut = Wait.ForTransitionAsync(hung, t =>
        {
            probesOfTheOtherWhenTheHungOneTimedOut = fine.Requests;
            return true;
        });

        await StartProberAsync(hung, ok);
        await timedOut;

        Assert.True(probesOfTheOtherWhenTheHungOneTimedOut >= 3,
            $"the healthy destination was probed {probesOfTheOtherWhenTheHungOneTimedOut} times while the other hung for 3 s");
    }

    [Fact]
    public async Task Stop_CancelsProbesInFlight_AndNoLoopOutlivesIt()
    {
        var (backend, destination) = await SetUpAsync(BackendMode.Hang, o => o.Timeout = TimeSpan.FromMinutes(5));
        await StartProberAsync(destination);
        await backend.RequestArrived.WaitAsync(Wait.Generous);      // a probe is hanging on the backend

        await _prober!.StopAsync(CancellationToken.None).WaitAsync(Wait.Generous); // not 5 minutes

        Assert.Equal(0, _prober.RunningLoops);
        await backend.AbortSeen.WaitAsync(Wait.Generous);           // the backend saw the probe cancelled
        Assert.Equal((0, 0), destination.ProbeRun); // a cancelled probe is neither a pass nor a failure
        var probes = backend.Requests;
        _prober.Track(destination);                                 // tracking after stop starts nothing
        Assert.Equal(0, _prober.RunningLoops);
        Assert.Equal(probes, backend.Requests);
    }

    [Fact]
    public async Task Untrack_StopsProbingThatDestination()
    {
        var (backend, destination) = await SetUpAsync();
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);
        await StartProberAsync(destination);
        await healthy;

        await _prober!.UntrackAsync(destination).WaitAsync(Wait.Generous);

        Assert.Equal(0, _prober.RunningLoops);
    }

    [Fact]
    public async Task ErrorInsideTheLoop_LoopGoesOnProbing()
    {
        var (backend, destination) = await SetUpAsync();
        _prober = new ActiveHealthProber(_client, TimeProvider.System, NullLogger<ActiveHealthProber>.Instance, new Random(7));
        var calls = 0;
        _prober.ProbeCompleted += (_, _) =>
        {
            if (Interlocked.Increment(ref calls) <= 3)
            {
                throw new InvalidOperationException("a subscriber's bug");
            }
        };
        _prober.Track(destination);
        var healthy = Wait.ForActiveAsync(destination, ActiveHealthState.Healthy);

        await _prober.StartAsync(CancellationToken.None);

        await healthy; // the first three probes crashed in the subscriber; the loop survived them
        Assert.True(Volatile.Read(ref calls) >= 4);
    }

    private async Task<(TestBackend, DestinationState)> SetUpAsync(BackendMode mode = BackendMode.Ok, Action<ActiveHealthOptions>? configure = null)
    {
        var backend = await TestBackend.StartAsync($"b{_backends.Count}", mode);
        _backends.Add(backend);
        var health = new HealthCheckOptions
        {
            Active =
            {
                Enabled = true,
                Interval = TimeSpan.FromMilliseconds(100),
                UnhealthyInterval = TimeSpan.FromMilliseconds(50),
                Timeout = TimeSpan.FromSeconds(2),
                HealthyThreshold = 2,
                UnhealthyThreshold = 2,
            },
        };
        configure?.Invoke(health.Active);
        var destination = new DestinationState("web", backend.Name, backend.Address, health, new CircuitBreakerOptions(), new EjectionBudget(50));
        return (backend, destination);
    }

    private async Task StartProberAsync(params DestinationState[] destinations)
    {
        _prober = new ActiveHealthProber(_client, TimeProvider.System, NullLogger<ActiveHealthProber>.Instance, new Random(7));
        foreach (var destination in destinations)
        {
            _prober.Track(destination);
        }

        await _prober.StartAsync(CancellationToken.None);
    }
}
