namespace Rampart.Statistics;

/// <summary>Successes and failures over a sliding time window, kept in buckets.</summary>
/// <remarks>
/// <para>
/// A clock read costs about 30 ns here, more than everything else a Closed breaker does per call,
/// so successes are not timestamped one by one: <see cref="RecordSuccess"/> only counts them, and
/// every <see cref="StampEvery"/>th success, every failure and every read puts the unstamped ones
/// into the bucket of that moment (<see cref="Stamp"/>). In dense traffic that is exact to the
/// bucket; in sparse traffic at most <c>StampEvery - 1</c> successes are counted in a later bucket
/// than the one they happened in.
/// </para>
/// <para>
/// Recording is lock-free: one <see cref="Interlocked"/> increment. Moving a
/// bucket on to a new period (once per bucket length) takes a lock. A reader sums the buckets whose
/// period lies within the window, so the window covers between <c>Buckets - 1</c> and
/// <c>Buckets</c> bucket lengths. A count racing with a rotation or <see cref="Clear"/> may be lost:
/// the ratio is a statistic, and one call more or less at a bucket edge does not change it.
/// </para>
/// </remarks>
internal sealed class SlidingWindow
{
    public const int Buckets = 10;

    /// <summary>Successes counted between two clock reads at most; a power of two.</summary>
    public const int StampEvery = 8;

    private readonly Bucket[] _buckets = new Bucket[Buckets];
    private readonly long _bucketTicks;
    private readonly Lock _rotateLock = new();
    private long _unstamped;

    /// <param name="window">The window's length.</param>
    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in (<see cref="TimeProvider.TimestampFrequency"/>).</param>
    public SlidingWindow(TimeSpan window, long timestampFrequency)
    {
        var windowTicks = TimestampMath.ToTimestampTicks(window, timestampFrequency);
        _bucketTicks = Math.Max(1, windowTicks / Buckets);
        Clear();
    }

    /// <summary>Counts a success without a timestamp.</summary>
    /// <returns><see langword="true"/> when the caller should now <see cref="Stamp"/> the unstamped successes.</returns>
    public bool RecordSuccess() => (Interlocked.Increment(ref _unstamped) & (StampEvery - 1)) == 0;

    /// <summary>Puts the successes counted since the last stamp into the bucket of <paramref name="timestamp"/>.</summary>
    public void Stamp(long timestamp)
    {
        if (Volatile.Read(ref _unstamped) != 0)
        {
            var successes = Interlocked.Exchange(ref _unstamped, 0);
            Interlocked.Add(ref CurrentBucket(timestamp).Successes, successes);
        }
    }

    public void RecordFailure(long timestamp)
    {
        Stamp(timestamp);
        Interlocked.Increment(ref CurrentBucket(timestamp).Failures);
    }

    /// <summary>The counts within the window that ends at <paramref name="timestamp"/>.</summary>
    public (long Successes, long Failures) Read(long timestamp)
    {
        Stamp(timestamp);
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
            Volatile.Write(ref _unstamped, 0);
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
