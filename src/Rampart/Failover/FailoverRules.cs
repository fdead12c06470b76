using Rampart.Clusters;

namespace Rampart.Failover;

/// <summary>Which requests may be sent again to another destination.</summary>
public static class FailoverRules
{
    /// <summary>Whether <paramref name="method"/> is idempotent (GET, HEAD, OPTIONS, PUT, DELETE, TRACE), so that sending it twice is safe.</summary>
    public static bool IsIdempotent(string method)
    {
        ArgumentNullException.ThrowIfNull(method);
        return method.Length switch
        {
            3 => Is(method, "GET") || Is(method, "PUT"),
            4 => Is(method, "HEAD"),
            5 => Is(method, "TRACE"),
            6 => Is(method, "DELETE"),
            7 => Is(method, "OPTIONS"),
            _ => false,
        };

        static bool Is(string method, string known) =>
            ReferenceEquals(method, known) || string.Equals(method, known, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether a request body can be buffered to be sent again: an idempotent request, retries allowed, a declared length within <see cref="RetryOptions.MaxBufferedBodyBytes"/>.</summary>
    /// <param name="idempotent">Whether the request's method is idempotent.</param>
    /// <param name="contentLength">The body's declared length, when known.</param>
    /// <param name="retry">The cluster's retry options.</param>
    public static bool MayReplayBody(bool idempotent, long? contentLength, RetryOptions retry)
    {
        ArgumentNullException.ThrowIfNull(retry);
        return idempotent && retry.MaxAttempts > 1 && contentLength is { } length && length <= retry.MaxBufferedBodyBytes;
    }
}
