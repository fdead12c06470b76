using Rampart.Configuration;

namespace Rampart.Proxy.Configuration;

/// <summary>
/// What a client's request may be (<c>Rampart:Limits</c>). A request beyond a limit is the client's fault: it is
/// answered by Rampart (413, 431, 414, 408) and never counts against a destination.
/// </summary>
public sealed class LimitsOptions : FreezableOptions
{
    /// <summary>The largest request body, in bytes. Default 30,000,000 (Kestrel's); 0 for no limit; at most 2^40. Over it: 413.</summary>
    public long MaxRequestBodySize { get; set => field = Settable(value); } = 30_000_000;

    /// <summary>The largest total size of a request's header fields, in bytes. Default 32,768; 1,024 to 1,048,576. Over it: 431.</summary>
    public int MaxRequestHeadersTotalSize { get; set => field = Settable(value); } = 32 * 1024;

    /// <summary>The most header fields a request may have. Default 100; 1 to 10,000. Over it: 431.</summary>
    public int MaxRequestHeaderCount { get; set => field = Settable(value); } = 100;

    /// <summary>The longest request line (method, target, version), in bytes. Default 8,192; 256 to <see cref="MaxRequestHeadersTotalSize"/>. Over it: 414.</summary>
    public int MaxRequestLineSize { get; set => field = Settable(value); } = 8 * 1024;

    /// <summary>How long a client may take to send a request's headers. Default 30 s; 1 s to 1 h. Over it: 408 and the connection is closed.</summary>
    public TimeSpan RequestHeadersTimeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection may stay idle between requests before it is closed. Default 130 s (Kestrel's); 1 s to 1 h.</summary>
    public TimeSpan KeepAliveTimeout { get; set => field = Settable(value); } = TimeSpan.FromSeconds(130);

    /// <summary>The slowest a client may send a request body, in bytes per second, after <see cref="MinRequestBodyDataRateGracePeriod"/>. Default 240; 0 turns the check off. Slower: 408.</summary>
    public double MinRequestBodyDataRate { get; set => field = Settable(value); } = 240;

    /// <summary>How long a body may be slower than <see cref="MinRequestBodyDataRate"/> before it counts. Default 5 s; more than 1 s, at most 1 h.</summary>
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set => field = Settable(value); } = TimeSpan.FromSeconds(5);

    internal IReadOnlyList<string> Validate(string prefix)
    {
        var e = new OptionsErrors(prefix);
        e.Check(MaxRequestBodySize is >= 0 and <= 1L << 40, nameof(MaxRequestBodySize), "must be 0 (no limit) or up to 1099511627776", MaxRequestBodySize);
        e.Check(MaxRequestHeadersTotalSize is >= 1024 and <= 1024 * 1024, nameof(MaxRequestHeadersTotalSize), "must be between 1024 and 1048576", MaxRequestHeadersTotalSize);
        e.Check(MaxRequestHeaderCount is >= 1 and <= 10_000, nameof(MaxRequestHeaderCount), "must be between 1 and 10000", MaxRequestHeaderCount);
        e.Check(MaxRequestLineSize >= 256 && MaxRequestLineSize <= MaxRequestHeadersTotalSize, nameof(MaxRequestLineSize), "must be between 256 and MaxRequestHeadersTotalSize", MaxRequestLineSize);
        e.Check(RequestHeadersTimeout >= TimeSpan.FromSeconds(1) && RequestHeadersTimeout <= TimeSpan.FromHours(1), nameof(RequestHeadersTimeout), "must be between 00:00:01 and 01:00:00", RequestHeadersTimeout);
        e.Check(KeepAliveTimeout >= TimeSpan.FromSeconds(1) && KeepAliveTimeout <= TimeSpan.FromHours(1), nameof(KeepAliveTimeout), "must be between 00:00:01 and 01:00:00", KeepAliveTimeout);
        e.Check(MinRequestBodyDataRate >= 0 && double.IsFinite(MinRequestBodyDataRate), nameof(MinRequestBodyDataRate), "must be 0 (off) or positive", MinRequestBodyDataRate);
        e.Check(MinRequestBodyDataRateGracePeriod > TimeSpan.FromSeconds(1) && MinRequestBodyDataRateGracePeriod <= TimeSpan.FromHours(1), nameof(MinRequestBodyDataRateGracePeriod), "must be more than 00:00:01 and at most 01:00:00", MinRequestBodyDataRateGracePeriod);
        return e.Errors;
    }
}
