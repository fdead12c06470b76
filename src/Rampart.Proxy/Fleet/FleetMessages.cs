using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rampart.Proxy.Fleet;

/// <summary>One replica's verdict on one destination, as published and kept in Redis: it holds it out (why), or no longer does.</summary>
internal sealed record FleetVerdict(
    [property: JsonPropertyName("r")] string Replica,
    [property: JsonPropertyName("c")] string Cluster,
    [property: JsonPropertyName("d")] string Destination,
    [property: JsonPropertyName("o")] bool Out,
    [property: JsonPropertyName("y")] string Reason)
{
    public DestinationKey Key => new(Cluster, Destination);

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>A verdict read back; null for anything malformed (another version, a stray publisher).</summary>
    public static FleetVerdict? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<FleetVerdict>(json) is { Replica.Length: > 0, Cluster.Length: > 0, Destination.Length: > 0 } verdict ? verdict with { Reason = verdict.Reason ?? "" } : null;
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

    /// <summary>The hash of standing "out" verdicts: field <c>replica\ncluster\ndestination</c>, value the verdict.</summary>
    public string HeldOut => _prefix + "out";

    /// <summary>The set of replica ids that ever said they were alive (pruned of those whose heartbeat expired).</summary>
    public string Replicas => _prefix + "replicas";

    /// <summary>A replica's heartbeat key, which expires after three heartbeats.</summary>
    public string Heartbeat(string id) => _prefix + "replica:" + id;

    public string Field(DestinationKey key) => Field(replica, key);

    public static string Field(string replica, DestinationKey key) => $"{replica}\n{key.Cluster}\n{key.Destination}";
}
