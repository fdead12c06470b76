namespace Rampart.Proxy.Discovery;

/// <summary>When a name is resolved again: at its records' TTL within [1 s, RefreshInterval]; after a failure, sooner, backing off.</summary>
internal static class DnsSchedule
{
    public static readonly TimeSpan Shortest = TimeSpan.FromSeconds(1);

    public static NameState Succeeded(NameState was, DnsAnswer answer, DateTimeOffset now, TimeSpan refreshInterval) =>
        new(answer.Endpoints, now, answer.TimeToLive, null, null, 0, now + Clamp(answer.TimeToLive, refreshInterval));

    /// <summary>The last good endpoints stay; tried again after 1 s, 2 s, 4 s… up to the refresh interval.</summary>
    public static NameState Failed(NameState was, string error, DateTimeOffset now, TimeSpan refreshInterval)
    {
        var failures = was.Failures + 1;
        var backoff = TimeSpan.FromTicks(Math.Min(refreshInterval.Ticks, Shortest.Ticks << Math.Min(failures - 1, 20)));
        return was with { Error = error, FailingSince = was.FailingSince ?? now, Failures = failures, NextAt = now + backoff };
    }

    private static TimeSpan Clamp(TimeSpan ttl, TimeSpan refreshInterval) => ttl < Shortest ? Shortest : ttl > refreshInterval ? refreshInterval : ttl;
}
