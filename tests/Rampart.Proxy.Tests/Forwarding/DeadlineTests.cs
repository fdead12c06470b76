using System.Net;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary>The request's overall deadline, and the pooled per-request state it cancels.</summary>
public sealed class DeadlineTests
{
    [Fact]
    public async Task DeadlinePassed_504_AndTheNextRequestsOnTheSamePooledStateSucceed()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:AttemptTimeout"] = "00:00:01",
            ["Rampart:Clusters:web:Timeout"] = "00:00:01",
            ["Rampart:Clusters:web:Retry:MaxAttempts"] = "1",
        });
        await new Load(f.Client).RunAsync(50, workers: 1); // the pooled states are in use and back in the pool

        f.Backends[0].Mode = BackendMode.Slow;             // answers after 1.5 s: past the 1 s deadline
        using var late = await f.Client.GetAsync("/");
        f.Backends[0].Mode = BackendMode.Ok;
        var after = new Load(f.Client);
        await after.RunAsync(50, workers: 1);

        Assert.Equal(HttpStatusCode.GatewayTimeout, late.StatusCode);
        Assert.Empty(after.Errors); // a cancelled state was never handed to a later request
        Assert.Equal(1, f.Destination(0).Failures);
    }
}
