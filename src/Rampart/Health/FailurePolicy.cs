using System.Globalization;
using Rampart.CircuitBreaking;

namespace Rampart.Health;

/// <summary>What counts as a destination's failure: the one rule shared by the breaker, passive health and failover.</summary>
/// <remarks>
/// Transport errors and timeouts are failures; so are the statuses in <see cref="FailureStatusCodes"/>
/// (500, 502, 503, 504 by default). A client that aborts its own request is never the destination's
/// failure: that outcome is <see cref="CallResult.Ignored"/>. Classifying a status allocates nothing.
/// </remarks>
public sealed class FailurePolicy
{
    private static readonly string[] StatusText = CreateStatusText();

    /// <summary>The default policy: 500, 502, 503 and 504 are failures.</summary>
    public static FailurePolicy Default { get; } = new(StatusCodeSet.Parse("500,502-504"));

    /// <summary>Creates a policy treating <paramref name="failureStatusCodes"/> as failures.</summary>
    public FailurePolicy(StatusCodeSet failureStatusCodes)
    {
        ArgumentNullException.ThrowIfNull(failureStatusCodes);
        FailureStatusCodes = failureStatusCodes;
    }

    /// <summary>The response statuses that count as failures.</summary>
    public StatusCodeSet FailureStatusCodes { get; }

    /// <summary>Classifies a response by its status; the detail is the status code as text (cached, no allocation).</summary>
    public (CallResult Result, string? Detail) ClassifyStatus(int statusCode) =>
        FailureStatusCodes.Contains(statusCode)
            ? (CallResult.Failure, (uint)statusCode < StatusText.Length ? StatusText[statusCode] : statusCode.ToString(CultureInfo.InvariantCulture))
            : (CallResult.Success, null);

    /// <summary>Classifies a request that ended without a response.</summary>
    /// <param name="clientAborted">Whether the client gave up (its connection closed or it cancelled): never the destination's failure.</param>
    /// <param name="detail">A short description of the error, such as "connection refused" or "timed out".</param>
    public static (CallResult Result, string? Detail) ClassifyError(bool clientAborted, string detail) =>
        clientAborted ? (CallResult.Ignored, null) : (CallResult.Failure, detail);

    private static string[] CreateStatusText()
    {
        var text = new string[600];
        for (var i = 100; i < text.Length; i++)
        {
            text[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        return text;
    }
}
