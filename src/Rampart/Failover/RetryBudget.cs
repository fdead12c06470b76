using Rampart.Statistics;

namespace Rampart.Failover;

/// <summary>Limits retries to a share of recent requests plus a small floor, so that failover cannot multiply load on a struggling cluster.</summary>
/// <remarks>Counts over a sliding 10 s window; <see cref="RecordRequest"/> takes no lock and does not read the clock.</remarks>
public sealed class RetryBudget
{
    private readonly double _ratio;
    private readonly int _floor;
    private readonly TimeProvider _time;
    private readonly SlidingWindow _window;

    /// <summary>Creates a budget.</summary>
    /// <param name="ratio">Retries allowed per request over the window, 0 to 1.</param>
    /// <param name="minRetriesPerWindow">Retries always allowed per window.</param>
    /// <param name="timeProvider">The clock.</param>
    public RetryBudget(double ratio, int minRetriesPerWindow, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ratio);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ratio, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(minRetriesPerWindow);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _ratio = ratio;
        _floor = minRetriesPerWindow;
        _time = timeProvider;
        _window = new SlidingWindow(Window, timeProvider.TimestampFrequency);
    }

    /// <summary>The window over which requests and retries are counted.</summary>
    public static TimeSpan Window { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Counts a request (its first attempt).</summary>
    public void RecordRequest()
    {
        if (_window.RecordSuccess())
        {
            _window.Stamp(_time.GetTimestamp());
        }
    }

    /// <summary>Takes one retry from the budget if it allows one now.</summary>
    public bool TryRetry()
    {
        var now = _time.GetTimestamp();
        var (requests, retries) = _window.Read(now);
        if (retries >= Math.Max(_floor, _ratio * requests))
        {
            return false;
        }

        _window.RecordFailure(now);
        return true;
    }
}
