using Rampart.Configuration;

namespace Rampart.Proxy.Fleet;

/// <summary>
/// Replicas that share what they learn about destinations through Redis (<c>Rampart:Fleet</c>). Off while
/// <see cref="Redis"/> is empty: a single replica behaves exactly as without it. Read at start.
/// </summary>
public sealed class FleetOptions : FreezableOptions
{
    /// <summary>A StackExchange.Redis configuration string, such as <c>redis.internal:6379,password=…</c>. Empty (default): no fleet.</summary>
    public string Redis { get; set => field = Settable(value); } = "";

    /// <summary>The fleet: replicas with the same name share. Default <c>rampart</c>; letters, digits, <c>-</c>, <c>_</c>, <c>.</c>.</summary>
    public string Name { get; set => field = Settable(value); } = "rampart";

    /// <summary>This replica's id in the fleet. Default: the host name and the process id (<c>web-1-4711</c>).</summary>
    public string ReplicaId { get; set => field = Settable(value); } = "";

    /// <summary>How often this replica says it is alive; a replica unseen for three heartbeats has left the live set. Default 1 s; 100 ms to 1 min.</summary>
    public TimeSpan Heartbeat { get; set => field = Settable(value); } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many live replicas must hold a destination out for it to be excluded fleet-wide without verification.
    /// Default 0: a majority of the replicas informed about it (that probe it, hold it out, or sent it traffic, probed
    /// it or spoke of it in the last 30 s). At least 0.
    /// </summary>
    public int Quorum { get; set => field = Settable(value); }

    /// <summary>
    /// How many live replicas actively probe each destination (chosen by rendezvous hashing over the live set); the
    /// others take their results from Redis. Default 2; 0 for every replica probing every destination; up to 100.
    /// </summary>
    public int ProbeReplicas { get; set => field = Settable(value); } = 2;

    /// <summary>Whether the fleet is on.</summary>
    internal bool Enabled => Redis.Length > 0;

    /// <summary>The replica id in use: <see cref="ReplicaId"/>, or the host name and process id.</summary>
    internal string Replica => ReplicaId.Length > 0 ? ReplicaId : $"{Environment.MachineName}-{Environment.ProcessId}";

    internal IReadOnlyList<string> Validate(string prefix)
    {
        var errors = new List<string>();
        if (!Enabled)
        {
            return errors;
        }

        try
        {
            _ = StackExchange.Redis.ConfigurationOptions.Parse(Redis);
        }
        catch (ArgumentException ex)
        {
            errors.Add($"{prefix}:Redis is not a Redis configuration string: {ex.Message} (was {Redis})");
        }

        if (Name.Length == 0 || !Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add($"{prefix}:Name must be letters, digits, '-', '_' or '.' (was {Name})");
        }

        if (ReplicaId.Any(c => char.IsControl(c) || c == '\n'))
        {
            errors.Add($"{prefix}:ReplicaId must not contain control characters (was {ReplicaId})");
        }

        if (Heartbeat < TimeSpan.FromMilliseconds(100) || Heartbeat > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{prefix}:Heartbeat must be between 00:00:00.100 and 00:01:00 (was {Heartbeat})");
        }

        if (ProbeReplicas is < 0 or > 100)
        {
            errors.Add($"{prefix}:ProbeReplicas must be 0 (every replica probes) or up to 100 (was {ProbeReplicas})");
        }

        if (Quorum is < 0 or > 10_000)
        {
            errors.Add($"{prefix}:Quorum must be 0 (a majority of the informed replicas) or up to 10000 (was {Quorum})");
        }

        return errors;
    }
}
