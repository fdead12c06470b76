using Microsoft.Extensions.Configuration;
using Rampart.Destinations;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Fleet;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Fleet;

/// <summary>
/// Three replicas (each a proxy with its own listener and state, in one test process) sharing health through a real
/// redis-server, in front of real Kestrel backends that the tests kill, restart and make refuse one replica's probes.
/// </summary>
public sealed class FleetTests : IAsyncLifetime
{
    private readonly string _fleet = "t" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<TestBackend> _backends = [];
    private readonly List<ProxyFixture> _replicas = [];
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        for (var i = 0; i < 3; i++)
        {
            _backends.Add(await TestBackend.StartAsync("b" + i));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }

        foreach (var backend in _backends)
        {
            await backend.DisposeAsync();
        }

        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task ABackendKilled_TheOthersSuspectItAtOnceWithoutTraffic_AQuorumExcludesIt_RecoveryReachesAll()
    {
        // Probes every 30 s when healthy: replicas without traffic can only learn of the death from the fleet.
        var (r1, r2, r3) = (await ReplicaAsync("r1"), await ReplicaAsync("r2"), await ReplicaAsync("r3"));
        await AllLiveAsync(3);
        var load = new Load(r1.Client);
        var done = new TaskCompletionSource();
        var running = load.RunUntilAsync(done.Task, maxRequests: 50_000);

        var suspected = new[] { r2, r3 }.Select(r => Wait.ForTransitionAsync(B1(r), t => t.Signal == HealthSignal.Fleet && t.From.Is(FleetState.Trusted))).ToList();
        await _backends[1].StopAsync();
        await Task.WhenAll(suspected);
        Assert.All(new[] { r2, r3 }, r => Assert.Equal(0, B1(r).Requests)); // not one request of theirs paid for it

        await Task.WhenAll(new[] { r1, r2, r3 }.Select(r => Wait.UntilAsync(() => B1(r).FleetState == FleetState.Excluded, r.Proxy.Fleet!.View.Self + " excludes b1 by quorum", [new Beats(r)])));
        var others = new[] { new Load(r2.Client), new Load(r3.Client) };
        await Task.WhenAll(others.Select(l => l.RunAsync(30)));
        Assert.All(others, l => Assert.Empty(l.Errors));
        Assert.All(new[] { r2, r3 }, r => Assert.Equal(0, B1(r).Requests));

        // Back: r1's probes bring it back, the others' own probes follow (suspect destinations are probed at the short interval).
        await _backends[1].RestartAsync();
        await Task.WhenAll(new[] { r1, r2, r3 }.Select(r => Wait.UntilAsync(() => B1(r).IsAvailable && B1(r).FleetState == FleetState.Trusted, r.Proxy.Fleet!.View.Self + " uses b1 again", [new Beats(r)], [B1(r)])));
        done.SetResult();
        await running;
        Assert.Empty(load.Errors);
    }

    [Fact]
    public async Task TheQuorumCountsInformedReplicas_TwoWithoutProbesOrTrafficDoNotOutvoteTheOneThatSawIt()
    {
        // No active checks anywhere, traffic on r1 only: r2 and r3 know nothing of b1 by themselves.
        (string, string)[] noProbes = [("HealthCheck:Active:Enabled", "false"), ("HealthCheck:Passive:BaseEjectionTime", "00:00:01")];
        var (r1, r2, r3) = (await ReplicaAsync("r1", noProbes), await ReplicaAsync("r2", noProbes), await ReplicaAsync("r3", noProbes));
        await AllLiveAsync(3);
        var excluded = new[] { r2, r3 }.Select(r => Wait.ForTransitionAsync(B1(r), t => t.To.Is(FleetState.Excluded))).ToList();

        await _backends[1].StopAsync();
        var load = new Load(r1.Client);
        await load.RunUntilAsync(Task.WhenAll(excluded), maxRequests: 20_000);

        // r1 is the only informed replica: its verdict is a majority of one. (Of the three live replicas, it would not be.)
        Assert.All(await Task.WhenAll(excluded), t => Assert.Contains("quorum 1", t.Reason, StringComparison.Ordinal));
        Assert.Empty(load.Errors);

        await _backends[1].RestartAsync(); // r1's ejection ends under its traffic, it takes b1 back and says so: the others trust it again
        var trusted = Task.WhenAll(new[] { r2, r3 }.Select(r => Wait.UntilAsync(() => B1(r).FleetState == FleetState.Trusted, "b1 trusted again", [new Beats(r)])));
        await new Load(r1.Client).RunUntilAsync(trusted, maxRequests: 20_000);
    }

    [Fact]
    public async Task ReplicasThatVerifiedAndKeptADestination_CountAsVoters_SoTwoOfFiveCannotExcludeIt()
    {
        string[] all = ["r1", "r2", "r3", "r4", "r5"];
        // One prober per destination; pick a backend probed by r1, r2 or r3, so that r4 and r5 count only by what they say.
        var backend = _backends.First(b => Rendezvous.Pick(all, new DestinationKey("web", b.Name), 1)[0] is "r1" or "r2" or "r3");
        var replicas = new List<ProxyFixture>();
        foreach (var id in all)
        {
            replicas.Add(await ReplicaAsync(id, quorum: 0, probeReplicas: 1, ("HealthCheck:Active:Interval", "00:00:00.200")));
        }

        await AllLiveAsync(5);
        var destinations = replicas.Select(r => r.Cluster.Destinations.Single(d => d.Id == backend.Name)).ToList();
        var kept = destinations.Skip(2).Select(d => Wait.ForTransitionAsync(d, t => t.Reason == "verified here: the probe passed")).ToList();

        destinations[0].Breaker.Isolate("isolated by admin"); // two replicas hold it out...
        destinations[1].Breaker.Isolate("isolated by admin");
        await Task.WhenAll(kept); // ...three verify it and keep it, and say so
        await Wait.UntilAsync(() => replicas.Skip(2).All(r => r.Proxy.Fleet!.Voters(new DestinationKey("web", backend.Name), r.Cluster.Destinations.Single(d => d.Id == backend.Name)).Count == 5), "every replica counts five voters", replicas.Select(r => new Beats(r)));

        // 2 of 5 is no majority. (Before the others' "kept" arrived a replica may have counted 2 of 3 informed for a moment.)
        await Task.WhenAll(replicas.Skip(2).Select(r => Wait.UntilAsync(() => r.Cluster.Destinations.Single(d => d.Id == backend.Name).FleetState == FleetState.Trusted, "trusted by the three that kept it", [new Beats(r)])));
        Assert.All(destinations.Skip(2), d => Assert.True(d.IsAvailable));
    }

    [Fact]
    public async Task OneReplicaThatCannotReachABackend_StopsUsingIt_TheOthersVerifyAndKeepIt()
    {
        // Every replica probes every destination here (ProbeReplicas 0): each one's own view is the point.
        var r1 = await ReplicaAsync("r1", quorum: 0, probeReplicas: 0, ("HealthCheck:Active:Path", "/health/r1"), ("HealthCheck:Active:Interval", "00:00:00.200"));
        var (r2, r3) = (await ReplicaAsync("r2", quorum: 0, probeReplicas: 0), await ReplicaAsync("r3", quorum: 0, probeReplicas: 0));
        await AllLiveAsync(3);
        var verified = new[] { r2, r3 }.Select(r => Wait.ForTransitionAsync(B1(r), t => t.Signal == HealthSignal.Fleet && t.To.Is(FleetState.Trusted))).ToList();

        _backends[1].RefuseProbesAt = "/health/r1"; // only r1's view of b1 is broken
        await Wait.ForActiveStateAsync(B1(r1), Rampart.Health.ActiveHealthState.Unhealthy);
        var kept = await Task.WhenAll(verified);

        Assert.All(kept, t => Assert.Equal("verified here: the probe passed", t.Reason));
        Assert.All(new[] { r2, r3 }, r => Assert.True(B1(r).IsAvailable));
        Assert.All(new[] { r2, r3 }, r => Assert.DoesNotContain(B1(r).GetTransitions(), t => t.To.Is(FleetState.Excluded)));
        Assert.False(B1(r1).IsAvailable);
        var load = new Load(r2.Client);
        await load.RunAsync(30);
        Assert.Empty(load.Errors);
        Assert.True(load.ServedBy.GetValueOrDefault("b1") > 0);
    }

    [Fact]
    public async Task RedisKilledMidLoad_LocalDecisionsGoOn_DegradedShown_ThenResync()
    {
        var (r1, r2) = (await ReplicaAsync("r1", quorum: 1), await ReplicaAsync("r2", quorum: 1));
        await AllLiveAsync(2);
        var load = new Load(r2.Client);
        var done = new TaskCompletionSource();
        var running = load.RunUntilAsync(done.Task, maxRequests: 50_000);

        // With a quorum of one, r1 isolating b0 excludes it on r2 too...
        B0(r1).Breaker.Isolate("isolated by admin");
        await Wait.UntilAsync(() => B0(r2).FleetState == FleetState.Excluded, "r2 excludes b0 on r1's word", [new Beats(r2)]);

        await _redis.KillAsync();
        await Wait.UntilAsync(() => !r2.Proxy.Fleet!.Connected, "r2 sees Redis gone", [new Beats(r2)]);
        var status = StatusDocument.From(r2.Proxy, TimeProvider.System).Fleet!;
        Assert.Equal("degraded", status.State);
        Assert.NotNull(status.DegradedSince);
        Assert.Equal(["r2"], status.Replicas);
        var health = await new RampartHealthCheck(r2.Proxy).CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, health.Status); // degraded is detail: the replica serves
        Assert.StartsWith("degraded since", (string)health.Data["fleet"], StringComparison.Ordinal);
        Assert.Equal(FleetState.Trusted, B0(r2).FleetState); // ...until the fleet is unreachable: then r2 decides alone
        Assert.True(B0(r2).IsAvailable);
        B0(r1).Breaker.Reset("reset by admin");

        // Meanwhile r1 holds b1 out (an operator isolates it there): nobody hears of it until Redis is back.
        B1(r1).Breaker.Isolate("isolated by admin");
        await _redis.StartAgainAsync(); // empty: no persistence; the replicas republish what they hold out
        await Wait.UntilAsync(() => r2.Proxy.Fleet!.Connected && B1(r2).FleetState != FleetState.Trusted, "r2 resynced and heard of b1", [new Beats(r2)]);
        await Wait.UntilAsync(() => StatusDocument.From(r2.Proxy, TimeProvider.System).Fleet!.Replicas.SequenceEqual(["r1", "r2"]), "both replicas live again", [new Beats(r2)]);

        done.SetResult();
        await running;
        Assert.Empty(load.Errors);
        Assert.Single(r2.Logs!.Entries, e => e.EventId.Id == 8002); // one warning for the outage
        Assert.Single(r2.Logs.Entries, e => e.EventId.Id == 8003);
    }

    [Fact]
    public async Task ProbeSharding_EachDestinationProbedByExactlyTwoReplicas_AKilledProberIsReplaced_TheOthersTakeTheResults()
    {
        var probing = ("HealthCheck:Active:Interval", "00:00:00.200");
        var r1 = await ReplicaAsync("r1", ("HealthCheck:Active:Path", "/health/r1"), probing);
        var r2 = await ReplicaAsync("r2", ("HealthCheck:Active:Path", "/health/r2"), probing);
        await using var r3 = await ProcessReplicaAsync("r3", "/health/r3");
        await AllLiveAsync(3);

        await AssertProbedByAsync(key => Rendezvous.Pick(["r1", "r2", "r3"], key, 2));
        foreach (var (replica, id) in new[] { (r1, "r1"), (r2, "r2") })
        {
            foreach (var destination in replica.Cluster.Destinations.Where(d => !Rendezvous.Pick(["r1", "r2", "r3"], new("web", d.Id), 2).Contains(id)))
            {
                Assert.Contains("(probed by r", destination.LastProbe!.Value.Result.Detail, StringComparison.Ordinal); // taken from the fleet
            }
        }

        r3.Kill(); // SIGKILL: no goodbye; its heartbeat key expires after three heartbeats
        await r3.Process.WaitForExitAsync();
        await AllLiveAsync(2);
        await AssertProbedByAsync(_ => ["r1", "r2"]);
    }

    [Fact]
    public async Task AReplicaThatFollowsTheProbers_TakesAFailureOnlyWhenEveryProberSeesIt()
    {
        string[] all = ["r1", "r2", "r3"];
        var (backend, probers) = _backends.Select(b => (b, Rendezvous.Pick(all, new DestinationKey("web", b.Name), 2))).First();
        var (broken, follower) = (probers[0], all.Except(probers).Single());
        var replicas = new Dictionary<string, ProxyFixture>();
        foreach (var id in all)
        {
            // One failure is enough to go Unhealthy: a single failing result taken from the broken prober would show.
            replicas[id] = await ReplicaAsync(id, ("HealthCheck:Active:Path", "/health/" + id), ("HealthCheck:Active:Interval", "00:00:00.200"), ("HealthCheck:Active:UnhealthyThreshold", "1"), ("HealthCheck:Active:Timeout", "00:00:02"));
        }

        await AllLiveAsync(3);
        var destination = replicas[follower].Cluster.Destinations.Single(d => d.Id == backend.Name);
        await Wait.ForActiveStateAsync(destination, Rampart.Health.ActiveHealthState.Healthy);
        var before = destination.GetTransitions().Count;
        backend.RefuseProbesAt = "/health/" + broken;
        await Wait.ForActiveStateAsync(replicas[broken].Cluster.Destinations.Single(d => d.Id == backend.Name), Rampart.Health.ActiveHealthState.Unhealthy);
        backend.ProbePaths.Clear();
        await Wait.UntilAsync(() => backend.ProbePaths.Count(p => p == "/health/" + broken) >= 5, "the broken prober fails five more times", [backend]);

        Assert.True(!destination.GetTransitions().Skip(before).Any(t => t.To.Is(Rampart.Health.ActiveHealthState.Unhealthy)), $"{follower} (probers {string.Join(",", probers)}): " + string.Join(" | ", destination.GetTransitions().Select(t => $"{t.Signal} {t.From}->{t.To}: {t.Reason}")));
        Assert.True(destination.IsAvailable);

        backend.RefuseProbesAt = null;
        await backend.StopAsync(); // now every prober fails: the follower takes it
        await Wait.ForActiveStateAsync(destination, Rampart.Health.ActiveHealthState.Unhealthy);
    }

    [Fact]
    public async Task AFleetWideIsolate_ReachesEveryReplica_JournaledByWhoAndWhere()
    {
        var (r1, r2, r3) = (await ReplicaAsync("r1"), await ReplicaAsync("r2"), await ReplicaAsync("r3"));
        await AllLiveAsync(3);
        await using var admin = await RampartAdminServer.StartAsync(r1.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        using var client = new HttpClient { BaseAddress = admin.Address };
        var isolated = new[] { r2, r3 }.Select(r => Wait.ForTransitionAsync(B0(r), t => t.To.Is(Rampart.CircuitBreaking.CircuitState.Isolated))).ToList();

        using (var response = await client.PostAsync("/destinations/web/b0/isolate?scope=fleet", null))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        Assert.All(await Task.WhenAll(isolated), t => Assert.Equal("isolated by admin on r1", t.Reason));
        Assert.Contains(B0(r1).GetTransitions(), t => t.Reason == "isolated by admin on r1");
        using (var local = await client.PostAsync("/destinations/web/b1/drain", null))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, local.StatusCode); // the default stays this replica only
        }

        Assert.True(B1(r1).IsDraining);
        using var wrong = await client.PostAsync("/destinations/web/b1/drain?scope=everywhere", null);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.False(B1(r2).IsDraining);
    }

    [Fact]
    public async Task TheDashboard_ShowsTheFleet_AndADestinationTheFleetExcludes()
    {
        var (r1, r2) = (await ReplicaAsync("r1", quorum: 1), await ReplicaAsync("r2", quorum: 1));
        await AllLiveAsync(2);
        await using var admin = await RampartAdminServer.StartAsync(r2.Proxy, TimeProvider.System, "http://127.0.0.1:0");
        B0(r1).Breaker.Isolate("isolated by admin");
        await Wait.UntilAsync(() => B0(r2).FleetState == FleetState.Excluded, "r2 excludes b0", [new Beats(r2)]);

        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(admin.Address.ToString());

        await Microsoft.Playwright.Assertions.Expect(page.Locator("#fleet.connected")).ToContainTextAsync("live: r1, r2 (quorum 1)", new() { Timeout = 10_000 });
        await Microsoft.Playwright.Assertions.Expect(page.Locator("#fleet")).ToContainTextAsync("web/b0 held out by r1");
        await Microsoft.Playwright.Assertions.Expect(page.Locator("tr[data-destination='b0']")).ToHaveAttributeAsync("data-state", "fleet-out");
    }

    [Fact]
    public async Task RedisStalled_TheReplicasDegradeWithoutAClientError_AndRejoinWhenItAnswers()
    {
        var (r1, r2) = (await ReplicaAsync("r1"), await ReplicaAsync("r2"));
        await AllLiveAsync(2);
        await new Load(r1.Client).RunAsync(50); // warm: the first requests' JIT and connections are not the point
        var load = new Load(r1.Client);
        var done = new TaskCompletionSource();
        var running = load.RunUntilAsync(done.Task, maxRequests: 50_000);
        var degraded = Wait.UntilAsync(() => !r1.Proxy.Fleet!.Connected, "r1 gives up on a Redis that does not answer", [new Beats(r1)]);

        await _redis.StallAsync(TimeSpan.FromSeconds(3)); // longer than a heartbeat's timeout (1 s)
        await degraded;
        await Wait.UntilAsync(() => r1.Proxy.Fleet!.Connected && r2.Proxy.Fleet!.Connected, "both rejoin", [new Beats(r1), new Beats(r2)]);

        done.SetResult();
        await running;
        Assert.Empty(load.Errors);
        Assert.True(load.MaxLatency < TimeSpan.FromSeconds(1), $"a request waited {load.MaxLatency} while Redis stalled"); // nothing on the request path waits on Redis
    }

    [Fact]
    public async Task AReplicasStandingVerdicts_AreAHashThatExpiresWithItsHeartbeat()
    {
        var r1 = await ReplicaAsync("r1");
        await AllLiveAsync(1);
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var db = redis.GetDatabase();
        var hash = $"rampart:{_fleet}:out:r1";
        await Wait.UntilAsync(() => !B0(r1).IsHeldOutHere && !db.HashExists(hash, "web\nb0"), "b0 serves (its first probe passed)", [new Beats(r1)]);

        B0(r1).Breaker.Isolate("isolated by admin");
        // Its verdict, in a hash that expires within three heartbeats of 200 ms: gone with a dead replica. (A heartbeat
        // late on a busy machine lets the hash expire meanwhile; the replica writes it again: so a wait, not one read.)
        // A hash without an expiry (no time to live) never meets it.
        await Wait.UntilAsync(
            () => ((string?)db.HashGet(hash, "web\nb0"))?.Contains("isolated by admin", StringComparison.Ordinal) == true
                && db.KeyTimeToLive(hash) is { } ttl && ttl > TimeSpan.Zero && ttl <= TimeSpan.FromMilliseconds(600),
            "r1's verdict stands in its hash, which expires with its heartbeat",
            [new Beats(r1)]);
        B0(r1).Reset("reset by admin");
        await Wait.UntilAsync(() => !db.HashExists(hash, "web\nb0"), "taken back", [new Beats(r1)]);
    }

    [Fact]
    public async Task ADestinationHeldOutForANewReasonOfItsOwn_IsSaidAgain_WithThatReason()
    {
        var r1 = await ReplicaAsync("r1", quorum: 0, probeReplicas: 0, ("HealthCheck:Active:Path", "/health/r1"), ("HealthCheck:Active:Interval", "00:00:00.200"));
        await AllLiveAsync(1);
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var db = redis.GetDatabase();
        var hash = $"rampart:{_fleet}:out:r1";
        string? Said() => db.HashGet(hash, "web\nb0");

        _backends[0].RefuseProbesAt = "/health/r1"; // held out by its probes first
        await Wait.UntilAsync(() => Said() is not null, "r1 says it holds b0 out", [new Beats(r1)]);
        Assert.DoesNotContain("isolated by admin", Said(), StringComparison.Ordinal);

        B0(r1).Breaker.Isolate("isolated by admin"); // still out, now for another reason of its own
        await Wait.UntilAsync(() => Said()?.Contains("isolated by admin", StringComparison.Ordinal) == true, "the new reason stands in r1's hash", [new Beats(r1)]);
    }

    [Fact]
    public async Task AStandingVerdictWhoseHashExpired_IsWrittenAgainAtTheNextHeartbeat()
    {
        var r1 = await ReplicaAsync("r1");
        await AllLiveAsync(1);
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        var db = redis.GetDatabase();
        var hash = $"rampart:{_fleet}:out:r1";
        B0(r1).Breaker.Isolate("isolated by admin");
        await Wait.UntilAsync(() => db.HashExists(hash, "web\nb0"), "r1's verdict stands in its hash", [new Beats(r1)]);

        await db.KeyDeleteAsync(hash); // as when a heartbeat comes later than the hash's time to live

        await Wait.UntilAsync(() => db.HashExists(hash, "web\nb0") && db.KeyTimeToLive(hash) > TimeSpan.Zero, "written again, with an expiry", [new Beats(r1)]);
    }

    [Fact]
    public async Task RedisDownAtStart_TheReplicaStartsAndServesAlone_AndJoinsWhenRedisComes()
    {
        await _redis.KillAsync();
        var r1 = await ReplicaAsync("r1");

        Assert.Equal("degraded", StatusDocument.From(r1.Proxy, TimeProvider.System).Fleet!.State);
        Assert.StartsWith("ok from b", await r1.Client.GetStringAsync("/"), StringComparison.Ordinal);

        await _redis.StartAgainAsync();
        await Wait.UntilAsync(() => r1.Proxy.Fleet!.Connected, "r1 joins once Redis is there", [new Beats(r1)]);
        Assert.Single(r1.Logs!.Entries, e => e.EventId.Id == 8002);
    }

    [Fact]
    public void InvalidFleetSettings_EachNamesItsKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Destinations:a:Address"] = "http://127.0.0.1:9",
            ["Rampart:Fleet:Redis"] = "127.0.0.1:6379,connectTimeout=soon",
            ["Rampart:Fleet:Name"] = "my fleet",
            ["Rampart:Fleet:Heartbeat"] = "00:00:00.050",
            ["Rampart:Fleet:Quorum"] = "-1",
        }).Build();

        RampartConfiguration.Load(configuration, out var errors);

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Rampart:Fleet:Redis is not a Redis configuration string", StringComparison.Ordinal));
        Assert.Contains("Rampart:Fleet:Name must be letters, digits, '-', '_' or '.' (was my fleet)", errors);
        Assert.Contains("Rampart:Fleet:Heartbeat must be between 00:00:00.100 and 00:01:00 (was 00:00:00.0500000)", errors);
        Assert.Contains("Rampart:Fleet:Quorum must be 0 (a majority of the informed replicas) or up to 10000 (was -1)", errors);
    }

    // Checks who probed each backend over a few rounds of probes. The rounds before are forgotten twice: a probe sent
    // before the first forgetting (by a replica since killed) can still be handled by a busy backend after it.
    private async Task AssertProbedByAsync(Func<DestinationKey, IReadOnlyList<string>> expected)
    {
        for (var window = 0; window < 2; window++)
        {
            foreach (var backend in _backends)
            {
                backend.ProbePaths.Clear();
            }

            await Wait.UntilAsync(() => _backends.All(b => b.ProbePaths.Count >= 8), "a few rounds of probes", _backends);
        }

        foreach (var backend in _backends)
        {
            var by = backend.ProbePaths.Select(p => p["/health/".Length..]).Distinct().Order(StringComparer.Ordinal);
            Assert.Equal(expected(new DestinationKey("web", backend.Name)).Order(StringComparer.Ordinal), by);
        }
    }

    // A replica as its own process (the rampart executable), so that a test can kill it.
    private Task<RampartProcess> ProcessReplicaAsync(string id, string probePath)
    {
        var destinations = string.Join(", ", _backends.Select(b => $$"""
            "{{b.Name}}": { "Address": "{{b.Address}}" }
            """));
        return RampartProcess.StartAsync($$"""
            { "Rampart": { "Listen": [ "http://127.0.0.1:0" ], "Admin": { "Listen": "" },
              "Fleet": { "Redis": "{{_redis.Configuration}}", "Name": "{{_fleet}}", "ReplicaId": "{{id}}", "Heartbeat": "00:00:00.200" },
              "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Destinations": { {{destinations}} },
                "HealthCheck": { "Active": { "Enabled": true, "Path": "{{probePath}}", "Interval": "00:00:00.200", "UnhealthyInterval": "00:00:00.100", "Jitter": 0 } } } } } }
            """);
    }

    private static DestinationState B0(ProxyFixture replica) => replica.Cluster.Destinations.Single(d => d.Id == "b0");

    private static DestinationState B1(ProxyFixture replica) => replica.Cluster.Destinations.Single(d => d.Id == "b1");

    private async Task AllLiveAsync(int count)
    {
        foreach (var replica in _replicas)
        {
            await Wait.UntilAsync(() => replica.Proxy.Fleet!.View.Live.Count == count, $"{count} live replicas", [new Beats(replica)]);
        }
    }

    private Task<ProxyFixture> ReplicaAsync(string id, params (string Key, string Value)[] cluster) => ReplicaAsync(id, quorum: 0, probeReplicas: 2, cluster);

    private Task<ProxyFixture> ReplicaAsync(string id, int quorum, params (string Key, string Value)[] cluster) => ReplicaAsync(id, quorum, probeReplicas: 2, cluster);

    private async Task<ProxyFixture> ReplicaAsync(string id, int quorum, int probeReplicas, params (string Key, string Value)[] cluster)
    {
        var c = "Rampart:Clusters:web:";
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Fleet:Redis"] = _redis.Configuration,
            ["Rampart:Fleet:Name"] = _fleet,
            ["Rampart:Fleet:ReplicaId"] = id,
            ["Rampart:Fleet:Heartbeat"] = "00:00:00.200",
            ["Rampart:Fleet:Quorum"] = quorum.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Rampart:Fleet:ProbeReplicas"] = probeReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [c + "HealthCheck:Active:Interval"] = "00:00:30",
            [c + "HealthCheck:Active:UnhealthyInterval"] = "00:00:00.100",
            [c + "HealthCheck:Active:Jitter"] = "0",
        };
        foreach (var b in _backends)
        {
            settings[$"{c}Destinations:{b.Name}:Address"] = b.Address.ToString();
        }

        foreach (var (key, value) in cluster)
        {
            settings[c + key] = value;
        }

        var replica = await ProxyFixture.StartAsync(backends: 0, settings: settings, logs: new LogCapture());
        _replicas.Add(replica);
        return replica;
    }

    /// <summary>Progress: each heartbeat and each verdict a replica received.</summary>
    private sealed class Beats : IProgressSource
    {
        public Beats(ProxyFixture replica) => replica.Proxy.Fleet!.Progressed += () => Progressed?.Invoke();

        public event Action? Progressed;
    }
}
