namespace Rampart;

/// <summary>Exact conversions between <see cref="TimeSpan"/> and <see cref="TimeProvider"/> timestamps.</summary>
internal static class TimestampMath
{
    /// <summary>The number of timestamp ticks in <paramref name="duration"/>, at <paramref name="frequency"/> ticks per second, rounded down.</summary>
    public static long ToTimestampTicks(TimeSpan duration, long frequency) =>
        frequency == TimeSpan.TicksPerSecond
            ? duration.Ticks
            : (long)((Int128)duration.Ticks * frequency / TimeSpan.TicksPerSecond);
}
