using Microsoft.Extensions.Time.Testing;
using Rampart.Diagnostics;

namespace Rampart.Tests.Diagnostics;

public sealed class LogThrottleTests
{
    [Fact]
    public void TryEnter_SameLineWithinTheInterval_HeldBackAndCounted()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(time, TimeSpan.FromSeconds(10));

        Assert.True(throttle.TryEnter("b1", "connection refused", out var first));
        Assert.Equal(0, first);
        for (var i = 0; i < 5; i++)
        {
            Assert.False(throttle.TryEnter("b1", "connection refused", out _));
        }

        Assert.True(throttle.TryEnter("b1", "connection reset", out _)); // another line: its own budget
        Assert.True(throttle.TryEnter("b2", "connection refused", out _));

        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(throttle.TryEnter("b1", "connection refused", out _));
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(throttle.TryEnter("b1", "connection refused", out var suppressed));
        Assert.Equal(6, suppressed);
    }

    [Fact]
    public void TryEnter_UnboundedKinds_ShareOneEntryPastTheCap()
    {
        var throttle = new LogThrottle(new FakeTimeProvider(), TimeSpan.FromSeconds(10));
        var written = Enumerable.Range(0, 5000).Count(i => throttle.TryEnter("b1", "kind " + i, out _));
        Assert.InRange(written, 1024, 1025);
    }
}
