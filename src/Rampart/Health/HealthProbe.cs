using System.Globalization;
using System.Net.Sockets;

namespace Rampart.Health;

/// <summary>One probe of one destination, HTTP or TCP: the prober's I/O, with no scheduling and no state.</summary>
internal sealed class HealthProbe(HttpMessageInvoker client, TimeProvider time)
{
    private const int MaxBodyBytes = 64 * 1024;

    public HttpMessageInvoker Client => client;

    /// <summary>Probes <paramref name="address"/>; over <paramref name="via"/> instead of the prober's client when given (a cluster's TLS settings).</summary>
    public async Task<ProbeResult> RunAsync(Uri address, Version version, ActiveHealthOptions options, StatusCodeSet expected, CancellationToken stopping, HttpMessageInvoker? via = null)
    {
        var started = time.GetTimestamp();
        // The probe's own deadline on the prober's clock; stopping the host cancels it at once too.
        using var timeout = new CancellationTokenSource(options.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stopping);
        try
        {
            var (passed, detail) = options.Mode == ProbeMode.Tcp
                ? await ConnectAsync(address, linked.Token).ConfigureAwait(false)
                : await GetAsync(via ?? client, address, version, options, expected, linked.Token).ConfigureAwait(false);
            return new ProbeResult(passed, detail, time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            return new ProbeResult(false, string.Create(CultureInfo.InvariantCulture, $"timed out after {options.Timeout}"), time.GetElapsedTime(started));
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException)
        {
            return new ProbeResult(false, TransportErrors.Describe(ex), time.GetElapsedTime(started));
        }
    }

    private static async Task<(bool, string)> GetAsync(HttpMessageInvoker client, Uri address, Version version, ActiveHealthOptions options, StatusCodeSet expected, CancellationToken cancellationToken)
    {
        // The version the cluster's requests use: a destination that speaks only HTTP/2 is healthy, one that cannot is not.
        using var request = new HttpRequestMessage(HttpMethod.Get, ProbeUri(address, options.Path))
        {
            Version = version,
            VersionPolicy = Rampart.Clusters.HttpVersions.PolicyFor(version, address),
        };
        request.Headers.UserAgent.ParseAdd("Rampart-HealthCheck/1.0");
        using var response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        var code = status.ToString(CultureInfo.InvariantCulture);
        if (!expected.Contains(status))
        {
            return (false, "status " + code);
        }

        if (options.BodyContains is { } wanted)
        {
            var body = await ReadPrefixAsync(response.Content, cancellationToken).ConfigureAwait(false);
            if (!body.Contains(wanted, StringComparison.Ordinal))
            {
                return (false, $"body did not contain '{wanted}'");
            }
        }

        return (true, code);
    }

    /// <summary>The destination's address with the probe path appended to its own path (as YARP does).</summary>
    public static Uri ProbeUri(Uri address, string path) =>
        new(address.GetLeftPart(UriPartial.Authority) + address.AbsolutePath.TrimEnd('/') + path);

    private static async Task<string> ReadPrefixAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxBodyBytes];
            var filled = 0;
            int read;
            while (filled < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false)) > 0)
            {
                filled += read;
            }

            return System.Text.Encoding.UTF8.GetString(buffer, 0, filled);
        }
    }

    private static async Task<(bool, string)> ConnectAsync(Uri address, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address.Host, address.Port, cancellationToken).ConfigureAwait(false);
        return (true, "connected");
    }
}
