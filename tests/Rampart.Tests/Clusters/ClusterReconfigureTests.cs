using Microsoft.Extensions.Time.Testing;
using Rampart.CircuitBreaking;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Health;
using Rampart.LoadBalancing;

namespace Rampart.Tests.Clusters;

/// <summary>A reload: <see cref="ClusterState.Reconfigure(ClusterOptions)"/> keeps what stays and starts what is new.</summary>
public sealed class ClusterReconfigureTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero));

    private static ClusterOptions Options(params string[] ids)
    {
        var options = new ClusterOptions();
        options.HealthCheck.Active.Enabled = true;
        options.HealthCheck.Passive.ConsecutiveFailures = 3;
        options.HealthCheck.Passive.MaxEjectionPercent = 50;
        options.CircuitBreaker.ConsecutiveFailures = 5;
        options.CircuitBreaker.FailureRatio = 0;
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(30);
        foreach (var id in ids)
        {
            options.Destinations[id] = new DestinationOptions { Address = $"http://127.0.0.1:{9000 + id[1]}" };
        }

        return options;
    }

    private static void Fail(DestinationState d, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.True(d.TryAcquire(out var lease));
            d.Report(lease, CallResult.Failure, "502");
        }
    }

    private static DestinationState Get(ClusterState cluster, string id) => cluster.Destinations.Single(d => d.Id == id);

    [Fact]
    public void SameRules_KeepsTheVeryObjects_AddsNewOnesUnknown_RetiresRemovedOnes()
    {
        var before = new ClusterState("web", Options("d1", "d2", "d3"), _time);
        var d1 = Get(before, "d1");
        Fail(d1, 2); // two of three consecutive failures: the count must survive

        var options = Options("d1", "d2", "d4");
        options.LoadBalancing = "PowerOfTwoChoices";
        var after = before.Reconfigure(options);

        Assert.Same(d1, Get(after, "d1"));
        Assert.Same(Get(before, "d2"), Get(after, "d2"));
        Assert.Equal(["d1", "d2", "d4"], after.Destinations.Select(d => d.Id));
        Assert.Equal(ActiveHealthState.Unknown, Get(after, "d4").ActiveHealth);
        Assert.Equal("PowerOfTwoChoices", after.Policy.Name);
        Assert.Same(before.EjectionBudget, after.EjectionBudget);
        Assert.Equal(3, after.EjectionBudget.Destinations);
        Assert.Equal(3, before.Destinations.Count); // the old cluster is untouched: requests on it finish on it

        Fail(d1, 1); // the third consecutive failure ejects
        Assert.Equal(PassiveHealthState.Ejected, d1.PassiveHealth);
    }

    [Fact]
    public void ChangedThreshold_CarriesEveryStateOver_AndTheNewThresholdApplies()
    {
        var before = new ClusterState("web", Options("d1", "d2", "d3", "d4"), _time);
        var (d1, d2, d3, d4) = (Get(before, "d1"), Get(before, "d2"), Get(before, "d3"), Get(before, "d4"));
        Fail(d1, 3);                                                  // passively ejected
        d2.ReportProbe(d2.Generation, new ProbeResult(false, "refused", TimeSpan.Zero));
        d2.ReportProbe(d2.Generation, new ProbeResult(false, "refused", TimeSpan.Zero));
        d2.ReportProbe(d2.Generation, new ProbeResult(false, "refused", TimeSpan.Zero)); // actively Unhealthy
        d3.Breaker.Isolate("isolated by admin");
        d4.ReportProbe(d4.Generation, new ProbeResult(true, "200", TimeSpan.Zero));
        d4.Drain("drained by admin");
        var ejectedUntil = d1.EjectedUntil;
        _time.Advance(TimeSpan.FromSeconds(1));

        var options = Options("d1", "d2", "d3", "d4");
        options.CircuitBreaker.ConsecutiveFailures = 1; // a threshold changes
        var after = before.Reconfigure(options);

        var (n1, n2, n3, n4) = (Get(after, "d1"), Get(after, "d2"), Get(after, "d3"), Get(after, "d4"));
        Assert.NotSame(d1, n1);
        Assert.Equal(PassiveHealthState.Ejected, n1.PassiveHealth);
        Assert.Equal(ejectedUntil, n1.EjectedUntil);
        Assert.Equal(1, n1.Ejections);
        Assert.Equal(1, after.EjectionBudget.Ejected);
        Assert.Equal(ActiveHealthState.Unhealthy, n2.ActiveHealth);
        Assert.Equal(CircuitState.Isolated, n3.Breaker.State);
        Assert.True(n4.IsDraining);
        Assert.Equal(ActiveHealthState.Healthy, n4.ActiveHealth);
        Assert.False(n1.IsAvailable || n2.IsAvailable || n3.IsAvailable || n4.IsAvailable);
        Assert.Equal(d1.GetTransitions(), n1.GetTransitions());
        Assert.Equal(d1.Requests, n1.Requests);
        Assert.True(n1.Generation > d1.Generation);

        // The new threshold applies: one failure now opens the breaker of a destination that is serving.
        n4.Reset("reset by admin");
        Fail(n4, 1);
        Assert.Equal(CircuitState.Open, n4.Breaker.State);
    }

    [Fact]
    public void ChangedThreshold_EveryTrafficCountGoesOn_NoPublishedCounterStartsAgain()
    {
        var before = new ClusterState("web", Options("d1"), _time);
        var d1 = Get(before, "d1");
        foreach (var result in (CallResult[])[CallResult.Success, CallResult.Success, CallResult.Failure, CallResult.Ignored])
        {
            Assert.True(d1.TryAcquire(out var lease));
            d1.Report(lease, result, result == CallResult.Failure ? "502" : null);
        }

        var options = Options("d1");
        options.CircuitBreaker.ConsecutiveFailures = 1;
        var n1 = Get(before.Reconfigure(options), "d1");

        Assert.NotSame(d1, n1);
        Assert.Equal((4L, 2L, 1L, 1L), (n1.Requests, n1.Successes, n1.Failures, n1.Ignored)); // rampart.requests by outcome
    }

    [Fact]
    public void OpenBreaker_StaysOpenUntilTheSameMoment_HalfOpenGetsItsTrialAtOnce()
    {
        var options = Options("d1", "d2");
        options.HealthCheck.Passive.Enabled = false; // the breaker alone
        var before = new ClusterState("web", options, _time);
        Fail(Get(before, "d2"), 5);               // d2 open until 0:30
        _time.Advance(TimeSpan.FromSeconds(20));
        Fail(Get(before, "d1"), 5);               // d1 open until 0:50
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(Get(before, "d2").TryAcquire(out _)); // d2's trial is out: Half-Open
        Assert.Equal(CircuitState.HalfOpen, Get(before, "d2").Breaker.State);

        options = Options("d1", "d2");
        options.HealthCheck.Passive.Enabled = false;
        options.CircuitBreaker.HalfOpenPermits = 2;
        var after = before.Reconfigure(options);

        Assert.Equal(CircuitState.Open, Get(after, "d1").Breaker.State);
        Assert.Equal(TimeSpan.FromSeconds(20), Get(after, "d1").Breaker.GetRetryAfter());
        Assert.True(Get(after, "d2").TryAcquire(out _));  // a trial under the new options, at once
        Assert.Equal(CircuitState.HalfOpen, Get(after, "d2").Breaker.State);
        Assert.True(Get(after, "d2").Breaker.Generation > Get(before, "d2").Breaker.Generation);
    }

    [Fact]
    public void SameIdNewAddress_IsAnotherBackend_StartsAfresh()
    {
        var before = new ClusterState("web", Options("d1", "d2"), _time);
        Fail(Get(before, "d1"), 3);
        var options = Options("d1", "d2");
        options.Destinations["d1"].Address = "http://127.0.0.1:7777";

        var after = before.Reconfigure(options);

        Assert.Equal(PassiveHealthState.Healthy, Get(after, "d1").PassiveHealth);
        Assert.Equal(0, after.EjectionBudget.Ejected); // the old d1 gave its ejection back
        Assert.Empty(Get(after, "d1").GetTransitions());
    }

    [Fact]
    public void RemovedEjectedDestination_GivesItsEjectionBack()
    {
        var before = new ClusterState("web", Options("d1", "d2", "d3", "d4"), _time); // 50 %: two may be ejected
        Assert.True(Get(before, "d1").TryAcquire(out var late));
        Fail(Get(before, "d1"), 3);
        Fail(Get(before, "d2"), 3);
        Assert.Equal(2, before.EjectionBudget.Ejected);

        var after = before.Reconfigure(Options("d2", "d3", "d4", "d5"));
        Fail(Get(after, "d3"), 3);

        Assert.Equal(PassiveHealthState.Ejected, Get(after, "d3").PassiveHealth); // d1's place was given back
        Assert.Equal(2, after.EjectionBudget.Ejected);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(PassiveHealthState.Probation, Get(before, "d1").PassiveHealth); // its ejection ends: nothing given back twice
        late.Destination.Report(late, CallResult.Failure, "502");       // a late failure on the removed one takes nothing
        Assert.Equal(PassiveHealthState.Probation, Get(before, "d1").PassiveHealth);
        Assert.Equal(2, after.EjectionBudget.Ejected);
    }

    [Fact]
    public void StaleLeaseFromBeforeTheReload_ReportsIntoTheOldObject()
    {
        var before = new ClusterState("web", Options("d1", "d2"), _time);
        var tried = default(TriedDestinations);
        Assert.True(before.TryAcquire(ref tried, out var lease));
        var options = Options("d1", "d2");
        options.HealthCheck.Passive.ConsecutiveFailures = 1;
        var after = before.Reconfigure(options);

        lease.Destination.Report(lease, CallResult.Failure, "502");

        Assert.All(after.Destinations, d => Assert.Equal(PassiveHealthState.Healthy, d.PassiveHealth));
    }

    [Fact]
    public void ChangedHttpVersion_NewObjectsSpeakIt_AndInheritTheirState()
    {
        var before = new ClusterState("web", Options("d1", "d2"), _time);
        var d1 = Get(before, "d1");
        Fail(d1, 3); // ejected
        Assert.Equal(new Version(1, 1), d1.Endpoint.HttpVersion);

        var options = Options("d1", "d2");
        options.HttpVersion = "2";
        var after = before.Reconfigure(options);

        var now = Get(after, "d1");
        Assert.NotSame(d1, now);
        Assert.Equal(new Version(2, 0), after.HttpVersion);
        Assert.Equal(new Version(2, 0), now.Endpoint.HttpVersion);
        Assert.Equal(System.Net.Http.HttpVersionPolicy.RequestVersionExact, now.Endpoint.HttpVersionPolicy); // http://: prior knowledge
        Assert.Equal(PassiveHealthState.Ejected, now.PassiveHealth); // carried over, like every state on a reload
        Assert.Equal(d1.EjectedUntil, now.EjectedUntil);
        Assert.Equal(3, now.Failures);
    }
}

public sealed class ClusterOptionsTests
{
    [Fact]
    public void Validate_NegativeConnectionCap_NamesTheKey()
    {
        var options = new ClusterOptions { MaxConnectionsPerDestination = -1 };
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };

        Assert.Equal(["Rampart:Clusters:web:MaxConnectionsPerDestination must be 0 (no limit) or positive (was -1)"], options.Validate("Rampart:Clusters:web"));
        options.MaxConnectionsPerDestination = 16;
        Assert.Empty(options.Validate("Rampart:Clusters:web"));
    }

    [Fact]
    public void Validate_UnknownHttpVersion_NamesTheKeyAndTheChoices()
    {
        var options = new ClusterOptions { HttpVersion = "3" };
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };

        Assert.Equal(["Rampart:Clusters:web:HttpVersion must be one of 1.1, 2 (was 3)"], options.Validate("Rampart:Clusters:web"));
        options.HttpVersion = "2";
        Assert.Empty(options.Validate("Rampart:Clusters:web"));
    }

    [Fact]
    public void Forwarder_ByDefaultFastWhereItCanCarryTheCluster_ElseYarp()
    {
        var options = new ClusterOptions();
        options.Destinations["a"] = new DestinationOptions { Address = "http://127.0.0.1:9001" };
        Assert.Equal("Auto", options.Forwarder);
        Assert.True(options.UsesFastForwarder); // HTTP/1.1 to http:// destinations

        options.HttpVersion = "2";
        Assert.False(options.UsesFastForwarder); // HTTP/2: YARP's
        options.HttpVersion = "1.1";
        options.Destinations["b"] = new DestinationOptions { Address = "https://127.0.0.1:9002" };
        Assert.False(options.UsesFastForwarder); // one https:// destination: YARP's
        Assert.Empty(options.Validate("Rampart:Clusters:web")); // and valid, as Auto always is
        options.Destinations.Remove("b");
        Assert.True(options.UsesFastForwarder); // the https:// one gone: Fast again (a reload decides anew)
        options.Destinations["b"] = new DestinationOptions { Address = "https://127.0.0.1:9002" };

        options.Forwarder = "Fast"; // asked for by name, TLS is an error that names the destination
        Assert.Equal(["Rampart:Clusters:web:Destinations:b:Address must be http:// with Forwarder Fast (no TLS on the fast path yet) (was https://127.0.0.1:9002)"], options.Validate("Rampart:Clusters:web"));
        options.Forwarder = "yarp";
        Assert.False(options.UsesFastForwarder);
        options.Forwarder = "Quick";
        Assert.Equal(["Rampart:Clusters:web:Forwarder must be one of Auto, Fast, Yarp (was Quick)"], options.Validate("Rampart:Clusters:web"));
    }

    [Fact]
    public void HttpVersion2_IsPriorKnowledgeOverPlainHttp_AndNegotiatedOverTls()
    {
        Assert.Equal(System.Net.Http.HttpVersionPolicy.RequestVersionExact, HttpVersions.PolicyFor(new Version(2, 0), new Uri("http://a")));
        Assert.Equal(System.Net.Http.HttpVersionPolicy.RequestVersionOrLower, HttpVersions.PolicyFor(new Version(2, 0), new Uri("https://a")));
        Assert.Equal(System.Net.Http.HttpVersionPolicy.RequestVersionOrLower, HttpVersions.PolicyFor(new Version(1, 1), new Uri("http://a")));
    }
}
