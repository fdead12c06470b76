using Microsoft.Extensions.Time.Testing;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>A destination connection's activity timeout: the time allowed without progress, on a fake clock.</summary>
public sealed class ActivityTimerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void NoActivityForTheTimeout_Cancels()
    {
        using var timer = new ActivityTimer(_time, Timeout);
        var token = timer.Touch();

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(token.IsCancellationRequested);
        Assert.True(timer.IsCancelled);
        Assert.False(timer.TryStop()); // a connection that timed out is not reused
    }

    [Fact]
    public void Activity_PostponesTheTimeout_CountingFromTheLastWait()
    {
        using var timer = new ActivityTimer(_time, Timeout);
        var token = timer.Touch();
        _time.Advance(TimeSpan.FromSeconds(8));
        timer.Touch();

        _time.Advance(TimeSpan.FromSeconds(8)); // 16 s since the first wait, 8 s since the last
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public void Stopped_BetweenExchanges_CountsNothing()
    {
        using var timer = new ActivityTimer(_time, Timeout);
        timer.Touch();
        Assert.True(timer.TryStop());

        _time.Advance(Timeout * 5); // idle in the pool for long: the timer fires and finds no exchange

        Assert.False(timer.IsCancelled);
        Assert.True(timer.TryStop());
    }

    [Fact]
    public void TheNextExchange_GetsTheWholeTimeout_WhateverTheEarlierOneLeftScheduled()
    {
        using var timer = new ActivityTimer(_time, Timeout);
        timer.Touch();
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(timer.TryStop()); // the first exchange's timer is still due in 1 s

        var token = timer.Touch(); // the next exchange starts
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public void Cancel_EndsTheWaits_AndTheConnectionIsNotReused()
    {
        using var timer = new ActivityTimer(_time, Timeout);
        var token = timer.Touch();

        timer.Cancel();

        Assert.True(token.IsCancellationRequested);
        Assert.False(timer.TryStop());
    }
}
