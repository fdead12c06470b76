using Rampart.Clusters;

namespace Rampart.Http;

/// <summary>How an <see cref="HttpClient"/> spreads its calls over destinations and protects itself from the failing ones.</summary>
public sealed class RampartClientOptions
{
    /// <summary>The destinations and their protection: the same options as a proxy cluster (a configuration section can be shared).</summary>
    public ClusterOptions Cluster { get; set; } = new();

    /// <summary>
    /// When no destination is available: <see langword="false"/> (default) throws <see cref="NoDestinationAvailableException"/>;
    /// <see langword="true"/> returns a synthesized 503 with <c>Retry-After</c>.
    /// </summary>
    public bool ReturnServiceUnavailable { get; set; }

    /// <summary>Why the configuration section could not be bound (a value that does not convert), if it could not: never thrown from the options pipeline, where a reload would carry it to the configuration's change callback.</summary>
    internal string? BindError { get; set; }
}

/// <summary>No destination of the client's cluster may take a call now; <see cref="RetryAfter"/> says when one may.</summary>
public sealed class NoDestinationAvailableException : HttpRequestException
{
    /// <summary>Creates the exception.</summary>
    public NoDestinationAvailableException()
        : this("No destination is available.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public NoDestinationAvailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public NoDestinationAvailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for <paramref name="clusterId"/>.</summary>
    public NoDestinationAvailableException(string clusterId, TimeSpan retryAfter)
        : base($"No destination of '{clusterId}' is available; retry after {retryAfter}.", null, System.Net.HttpStatusCode.ServiceUnavailable)
    {
        ClusterId = clusterId;
        RetryAfter = retryAfter;
    }

    /// <summary>The cluster (the client's name).</summary>
    public string? ClusterId { get; }

    /// <summary>How long until a destination may take calls again.</summary>
    public TimeSpan RetryAfter { get; }
}
