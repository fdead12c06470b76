using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy.Tests.Infrastructure;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Transport;

/// <summary>
/// The proxy's clock: on an epoll loop's thread, the loop's one clock read per batch of events (as nginx's time, updated
/// once per turn of its loop); everywhere else, the system's.
/// </summary>
public sealed class LoopTimeTests
{
    [Fact]
    public async Task OnALoop_ReadsInOneBatchAreTheLoopsOneRead_AndTheNextBatchReadsAgain()
    {
        var loop = EventLoop.Next();
        var (first, again, loops) = await OnLoop.RunAsync(loop, () => (LoopTime.Instance.GetTimestamp(), LoopTime.Instance.GetTimestamp(), loop.Now));
        Assert.Equal(first, again);
        Assert.Equal(loops, first);

        var before = Stopwatch.GetTimestamp();
        var later = await OnLoop.RunAsync(loop, LoopTime.Instance.GetTimestamp); // a batch that began after `before`
        Assert.True(later >= before, $"the loop's clock {later} was not read again for a batch after {before}");
    }

    [Fact]
    public void OffTheLoops_ItIsTheSystemsClock()
    {
        Assert.Null(EventLoop.Current);
        var before = Stopwatch.GetTimestamp();
        var read = LoopTime.Instance.GetTimestamp();
        var after = Stopwatch.GetTimestamp();
        Assert.InRange(read, before, after);
        Assert.Equal(Stopwatch.Frequency, LoopTime.Instance.TimestampFrequency);
    }

    [Fact]
    public void TheProxysClock_IsTheLoopsClock()
    {
        var services = new ServiceCollection();
        services.AddRampart(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();
        Assert.Same(LoopTime.Instance, provider.GetService(typeof(TimeProvider)));
    }
}
