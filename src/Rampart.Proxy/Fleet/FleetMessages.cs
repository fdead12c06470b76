using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rampart.Proxy.Fleet;

/// <summary>
/// One replica's verdict on one destination, as published and kept in Redis: it holds it out (why), or no longer does.
/// <see cref="Order"/> (the replica process's start, then its count of verdicts) orders one replica's verdicts, so that a
/// late one (the hash read at a resync, after a newer message) cannot undo a newer; <see cref="Generation"/> is the
/// destination's there, for people.
/// </summary>
internal sealed record FleetVerdict(
    [property: JsonPropertyName("r")] string Replica,
    [property: JsonPropertyName("c")] string Cluster,
    [property: JsonPropertyName("d")] string Destination,
    [property: JsonPropertyName("o")] bool Out,
    [property: JsonPropertyName("y")] string Reason,
    [property: JsonPropertyName("i")] long Incarnation,
    [property: JsonPropertyName("s")] long Sequence,
    [property: JsonPropertyName("g")] long Generation)
{
    public (long Incarnation, long Sequence) Order => (Incarnation, Sequence);

    public DestinationKey Key => new(Cluster, Destination);

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>A verdict read back; null for anything malformed (another version, a stray publisher).</summary>
    public static FleetVerdict? Parse(string? json) =>
        FleetJson.Parse<FleetVerdict>(json) is { Replica.Length: > 0, Cluster.Length: > 0, Destination.Length: > 0 } verdict ? verdict with { Reason = verdict.Reason ?? "" } : null;
}

/// <summary>A probe's result, published by a replica that probes the destination for the fleet, with the destination's generation there.</summary>
internal sealed record FleetProbe(
    [property: JsonPropertyName("r")] string Replica,
    [property: JsonPropertyName("c")] string Cluster,
    [property: JsonPropertyName("d")] string Destination,
    [property: JsonPropertyName("p")] bool Passed,
    [property: JsonPropertyName("y")] string Detail,
    [property: JsonPropertyName("ms")] double Milliseconds,
    [property: JsonPropertyName("g")] long Generation)
{
    public DestinationKey Key => new(Cluster, Destination);

    public string ToJson() => JsonSerializer.Serialize(this);

    public static FleetProbe? Parse(string? json) =>
        FleetJson.Parse<FleetProbe>(json) is { Replica.Length: > 0, Cluster.Length: > 0, Destination.Length: > 0 } probe ? probe with { Detail = probe.Detail ?? "" } : null;
}

/// <summary>An operator's action for every replica (<c>?scope=fleet</c>): <c>isolate</c>, <c>reset</c> or <c>drain</c>.</summary>
internal sealed record FleetAdmin(
    [property: JsonPropertyName("r")] string Replica,
    [property: JsonPropertyName("c")] string Cluster,
    [property: JsonPropertyName("d")] string Destination,
    [property: JsonPropertyName("a")] string Action)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static FleetAdmin? Parse(string? json) =>
        FleetJson.Parse<FleetAdmin>(json) is { Replica.Length: > 0, Cluster.Length: > 0, Destination.Length: > 0, Action.Length: > 0 } command ? command : null;
}

/// <summary>Reading a fleet message: null for anything that is not one (another version, a stray publisher).</summary>
internal static class FleetJson
{
    public static T? Parse<T>(string? json)
        where T : class
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The fleet's Redis names, all under <c>rampart:{fleet}:</c>.</summary>
internal sealed class FleetKeys(string fleet, string replica)
{
    private readonly string _prefix = $"rampart:{fleet}:";

    /// <summary>The pub/sub channel of verdicts.</summary>
    public string Verdicts => _prefix + "verdicts";

    /// <summary>The pub/sub channel of operators' fleet-wide actions.</summary>
    public string Admin => _prefix + "admin";

    /// <summary>The pub/sub channel of probe results, from the replicas that probe each destination.</summary>
    public string Probes => _prefix + "probes";

    /// <summary>
    /// A replica's hash of standing "out" verdicts (field <c>cluster\ndestination</c>, value the verdict), read by a
    /// joining or reconnecting replica; it expires with the replica's heartbeat, so a dead replica's verdicts go with it.
    /// </summary>
    public string HeldOut(string id) => _prefix + "out:" + id;

    /// <summary>The set of replica ids that ever said they were alive (pruned of those whose heartbeat expired).</summary>
    public string Replicas => _prefix + "replicas";

    /// <summary>A replica's heartbeat key, which expires after three heartbeats.</summary>
    public string Heartbeat(string id) => _prefix + "replica:" + id;

    /// <summary>This replica's hash of standing verdicts.</summary>
    public string Mine => HeldOut(replica);

    public static string Field(DestinationKey key) => $"{key.Cluster}\n{key.Destination}";
}
