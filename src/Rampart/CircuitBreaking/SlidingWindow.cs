namespace Rampart.CircuitBreaking;

/// <summary>Successes and failures over a sliding time window, kept in buckets.</summary>
/// <remarks>
/// Recording is lock-free: one <see cref="Interlocked"/> increment on the current bucket. Moving a
/// bucket on to a new period (once per bucket length) takes a lock. A reader sums the buckets whose
/// period lies within the window, so the window covers between <c>Buckets - 1</c> and
/// <c>Buckets</c> bucket lengths. A count racing with a rotation or <see cref="Clear"/> may be lost:
/// the ratio is a statistic, and one call more or less at a bucket edge does not change it.
/// </remarks>
internal sealed class SlidingWindow
{
    public const int Buckets = 10;

    private readonly Bucket[] _buckets = new Bucket[Buckets];
    private readonly long _bucketTicks;
    private readonly Lock _rotateLock = new();

    /// <param name="window">The window's length.</param>
    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    public SlidingWindow(TimeSpan window, long timestampFrequency)
    {
        var windowTicks = (long)(window.TotalSeconds * timestampFrequency);
        _bucketTicks = Math.Max(1, windowTicks / Buckets);
        Clear();
    }

    public void RecordSuccess(long timestamp) => Interlocked.Increment(ref CurrentBucket(timestamp).Successes);

    public void RecordFailure(long timestamp) => Interlocked.Increment(ref CurrentBucket(timestamp).Failures);

    /// <summary>The counts within the window that ends at <paramref name="timestamp"/>.</summary>
    public (long Successes, long Failures) Read(long timestamp)
    {
        var period = timestamp / _bucketTicks;
        long successes = 0, failures = 0;
        foreach (ref var bucket in _buckets.AsSpan())
        {
            var bucketPeriod = Volatile.Read(ref bucket.Period);
            if (bucketPeriod > period - Buckets && bucketPeriod <= period)
            {
                successes += Volatile.Read(ref bucket.Successes);
                failures += Volatile.Read(ref bucket.Failures);
            }
        }

        return (successes, failures);
    }

    public void Clear()
    {
        lock (_rotateLock)
        {
            foreach (ref var bucket in _buckets.AsSpan())
            {
                Volatile.Write(ref bucket.Period, long.MinValue);
                bucket.Successes = 0;
                bucket.Failures = 0;
            }
        }
    }

    private ref Bucket CurrentBucket(long timestamp)
    {
        var period = timestamp / _bucketTicks;
        ref var bucket = ref _buckets[(int)(period % Buckets)];
        if (Volatile.Read(ref bucket.Period) < period)
        {
            Rotate(ref bucket, period);
        }

        return ref bucket;
    }

    private void Rotate(ref Bucket bucket, long period)
    {
        lock (_rotateLock)
        {
            if (bucket.Period < period)
            {
                bucket.Successes = 0;
                bucket.Failures = 0;
                // Published last: a recorder that sees the new period also sees the zeroed counts.
                Volatile.Write(ref bucket.Period, period);
            }
        }
    }

    private struct Bucket
    {
        public long Period;
        public long Successes;
        public long Failures;
    }
}
