using Microsoft.Extensions.Time.Testing;
using Rampart.Failover;

namespace Rampart.Tests.Failover;

/// <summary>
/// The timeout of a request's deadline and of a destination connection's activity: never early, never late, restarted
/// by activity, reusable between uses, and a firing of an earlier use never ends a later one — on a fake clock.
/// </summary>
public sealed class LazyTimeoutTests
{
    private static readonly TimeSpan Ten = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Millisecond = TimeSpan.FromMilliseconds(1);
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TheDeadlinePassed_Cancels_NotBefore()
    {
        using var timeout = new LazyTimeout(_time);
        var token = timeout.Start(Ten);

        _time.Advance(Ten - Millisecond);
        Assert.False(token.IsCancellationRequested);
        _time.Advance(Millisecond);

        Assert.True(token.IsCancellationRequested);
        Assert.True(timeout.IsCancelled);
        Assert.False(timeout.TryStop()); // fired: not reused
    }

    [Fact]
    public void Activity_MovesTheDeadline_ToTheTimeoutFromTheLastTouch()
    {
        using var timeout = new LazyTimeout(_time);
        var token = timeout.Start(Ten);
        _time.Advance(TimeSpan.FromSeconds(8));
        timeout.Touch();

        _time.Advance(TimeSpan.FromSeconds(8)); // 16 s since the start, 8 s since the last activity
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public void Stopped_BetweenUses_CountsNothing()
    {
        using var timeout = new LazyTimeout(_time);
        timeout.Start(Ten);
        Assert.True(timeout.TryStop());

        _time.Advance(Ten * 5); // idle for long: its timer fires and finds no use

        Assert.False(timeout.IsCancelled);
        Assert.True(timeout.TryStop());
    }

    [Fact]
    public void TheNextUse_GetsItsWholeTimeout_WhateverAnEarlierUseLeftScheduled()
    {
        using var timeout = new LazyTimeout(_time);
        timeout.Start(Ten);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(timeout.TryStop()); // the first use's timer is still due in 1 s

        var token = timeout.Start(Ten);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(token.IsCancellationRequested);
    }

    [Fact]
    public void AShorterTimeoutThanTheScheduledFiring_IsNotLate()
    {
        // Pooled attempt loops serve clusters with different timeouts: a 1 s deadline after a 10 s one fires at 1 s.
        using var timeout = new LazyTimeout(_time);
        timeout.Start(Ten);
        Assert.True(timeout.TryStop());

        var token = timeout.Start(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.True(token.IsCancellationRequested);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InfiniteOrTooFarOff_NeverFires(bool infinite)
    {
        using var timeout = new LazyTimeout(_time);
        var token = timeout.Start(infinite ? Timeout.InfiniteTimeSpan : TimeSpan.MaxValue);

        _time.Advance(TimeSpan.FromDays(365));

        Assert.False(token.IsCancellationRequested);
        Assert.True(timeout.TryStop());
    }

    [Fact]
    public void Cancel_EndsTheWaits_AndItIsNotReused()
    {
        using var timeout = new LazyTimeout(_time);
        var token = timeout.Start(Ten);

        timeout.Cancel();

        Assert.True(token.IsCancellationRequested);
        Assert.False(timeout.TryStop());
    }
}
