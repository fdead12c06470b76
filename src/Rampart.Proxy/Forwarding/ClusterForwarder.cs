using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Rampart.Async;
using Rampart.Clusters;
using Rampart.Failover;
using Rampart.Health;
using Rampart.Proxy.Diagnostics;
using Rampart.Proxy.Forwarding.Fast;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// Forwards a cluster's requests through YARP's <see cref="IHttpForwarder"/>: the transport of the core's
/// <see cref="AttemptLoop"/>, which decides which destination, what a result means and whether to try again.
/// This class only moves bytes, watches the client's body and turns the loop's result into an answer.
/// </summary>
internal sealed class ClusterForwarder : IAttemptTransport<HttpContext>, IDisposable
{
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly ForwarderRequestConfig _requestConfig;
    private readonly ForwarderRequestConfig _exactVersionConfig; // HTTP/2 with prior knowledge (h2c)
    private readonly RampartTransformer _transformer;
    private readonly ILogger _logger;
    private readonly FastTransport? _fast;
    private readonly AccessLog? _accessLog;

    // client: shared with the forwarder this one replaces (a reload that kept the attempt timeout); a new one when null.
    public ClusterForwarder(ClusterState cluster, IHttpForwarder forwarder, ILogger logger, ForwardedHeaders forwarded, AccessLog? accessLog = null, HttpMessageInvoker? client = null, Http1Client? fastClient = null)
    {
        _accessLog = accessLog;
        Forwarded = forwarded;
        Cluster = cluster;
        _forwarder = forwarder;
        _logger = logger;
        _transformer = new RampartTransformer(forwarded);
        var options = cluster.Options;
        _client = client ?? new HttpMessageInvoker(Handler(cluster));
        _requestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = options.AttemptTimeout,
            Version = cluster.HttpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        _exactVersionConfig = _requestConfig with { VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        if (options.UsesFastForwarder)
        {
            FastClient = fastClient ?? new Http1Client(options.AttemptTimeout, cluster.Time, options.MaxConnectionsPerDestination);
            _fast = new FastTransport(FastClient, forwarded);
        }
    }

    /// <summary>The fast path's connection pools, when the cluster uses it (shared with the forwarder a reload makes, like <see cref="Client"/>).</summary>
    public Http1Client? FastClient { get; }

    public ClusterState Cluster { get; }

    /// <summary>How the forwarded headers are written.</summary>
    public ForwardedHeaders Forwarded { get; }

    // The cluster's connection pool to its destinations, with its TLS settings.
    private static SocketsHttpHandler Handler(ClusterState cluster)
    {
        var options = cluster.Options;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
            ConnectTimeout = options.AttemptTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            MaxConnectionsPerServer = options.MaxConnectionsPerDestination > 0 ? options.MaxConnectionsPerDestination : int.MaxValue,
        };
        Rampart.Tls.DestinationTls.Apply(handler, options.Tls, $"Rampart:Clusters:{cluster.Id}:Tls");
        return handler;
    }

    /// <summary>Whether a forwarder for <paramref name="next"/> may keep the client of one for <paramref name="previous"/>: the settings the client is built from are the same.</summary>
    public static bool CanShareClient(ClusterOptions previous, ClusterOptions next) =>
        previous.AttemptTimeout == next.AttemptTimeout && previous.MaxConnectionsPerDestination == next.MaxConnectionsPerDestination
        && previous.UsesFastForwarder == next.UsesFastForwarder && Rampart.Configuration.OptionsTree.Same(previous.Tls, next.Tls);

    /// <summary>The client requests go out through (one connection pool per cluster).</summary>
    public HttpMessageInvoker Client => _client;

    public async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        var started = _accessLog?.Start() ?? 0;
        using var span = RequestTracing.On ? RequestTracing.Start(request.Method, RawTarget(context), request.Headers.TraceParent, request.Headers.TraceState, Cluster.Id) : null;
        if (ClientRequests.Refusal(context) is { } refusal)
        {
            await refusal.WriteAsync(context, Cluster.Id, _logger).ConfigureAwait(false);
            Log(context, started, default, refused: true);
            RequestTracing.Stop(span, context.Response.StatusCode, default, refused: true);
            return; // the client's request is wrong: no destination hears of it
        }

        var bodyDetection = context.Features.Get<IHttpRequestBodyDetectionFeature>();
        var hasBody = bodyDetection is not { CanHaveBody: false } && request.ContentLength != 0;
        var loop = AttemptLoop.Rent(Cluster, request.Method, hasBody, request.ContentLength, context.RequestAborted);
        var attempt = ProxyAttempt.Rent(loop, context);
        context.Features.Set(attempt);
        var body = request.Body;
        if (hasBody)
        {
            // Read through a watch: a failure while reading the client's body is the client's, not the destination's.
            attempt.Body = new ClientBodyStream(request.BodyReader);
            request.Body = attempt.Body;
            if (loop.BufferBody)
            {
                var limit = Cluster.Options.Retry.MaxBufferedBodyBytes;
                request.EnableBuffering(bufferThreshold: (int)Math.Min(limit, 64 * 1024), bufferLimit: limit);
            }
        }

        try
        {
            // The fast path takes every request of a cluster that uses it but upgrades (WebSockets), which go the YARP way.
            var fast = _fast is not null && !ClientRequests.AsksForUpgrade(context);
            var counted = _accessLog is not null && !fast ? new CountingStream(context.Response.Body) : null;
            if (counted is not null)
            {
                context.Response.Body = counted; // YARP's copy is counted for the access log
            }

            var result = fast
                ? await loop.RunAsync<IFastExchange>(_fast!, attempt).ConfigureAwait(false)
                : await loop.RunAsync(this, context).ConfigureAwait(false);
            await AnswerAsync(context, result).ConfigureAwait(false);
            Log(context, started, result, bytes: counted?.Written ?? attempt.BodyBytes);
            RequestTracing.Stop(span, context.Response.StatusCode, result);
        }
        finally
        {
            if (hasBody)
            {
                request.Body = body;
            }

            context.Features.Set<ProxyAttempt>(null);
            attempt.Return();
        }
    }

    /// <summary>One attempt through YARP's forwarder (the loop's transport).</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    async ValueTask<AttemptEnd> IAttemptTransport<HttpContext>.SendAsync(HttpContext context, AttemptLoop attempts, CancellationToken cancellationToken)
    {
        var body = context.Features.Get<ProxyAttempt>()!.Body;
        body?.Restart();
        var destination = attempts.Destination;
        var config = destination.Endpoint.HttpVersionPolicy == HttpVersionPolicy.RequestVersionExact ? _exactVersionConfig : _requestConfig;
        var error = await _forwarder.SendAsync(context, destination.Endpoint.AddressPrefix, _client, config, _transformer, cancellationToken).ConfigureAwait(false);
        if (error == ForwarderError.None)
        {
            return AttemptEnd.Received;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        return new AttemptEnd(
            (AttemptError)error,
            body?.Error ?? exception,
            body?.Progress ?? RequestBodyProgress.None,
            NothingSent: TransportErrors.NothingSent(exception),
            ResponseStarted: context.Response.HasStarted,
            CallerStatus: body?.Error is BadHttpRequestException bad ? bad.StatusCode : 0); // Kestrel's rejection says which limit was broken (400, 408, 413)
    }

    void IAttemptTransport<HttpContext>.PrepareRetry(HttpContext context)
    {
        context.Response.Clear();
        context.Features.Set<IForwarderErrorFeature>(null);
        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }
    }

    // The access log's line: what the client asked, what it got, where it went.
    private void Log(HttpContext context, long started, in FailoverResult result, long bytes = 0, bool refused = false)
    {
        if (_accessLog is null)
        {
            return;
        }

        var response = context.Response;
        _accessLog.Add(
            started,
            context.Connection.RemoteIpAddress?.ToString(),
            context.Request.Method,
            RawTarget(context),
            context.RequestAborted.IsCancellationRequested && !response.HasStarted ? 0 : response.StatusCode,
            Cluster.Id,
            result,
            bytes,
            refused);
    }

    // The target as the client sent it.
    private static string RawTarget(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path + context.Request.QueryString;

    /// <summary>The body of the 503 a request gets when no destination of <paramref name="cluster"/> is available (both servers).</summary>
    public static string NoDestinationText(ClusterState cluster) => $"No destination of cluster '{cluster.Id}' is available.";

    /// <summary>The <c>Retry-After</c> of that 503: when a destination may be back, in whole seconds.</summary>
    public static string RetryAfterSeconds(ClusterState cluster) => Math.Ceiling(cluster.RetryAfter().TotalSeconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>The fast path's transport, when the cluster uses it (Rampart's own server forwards through it).</summary>
    public FastTransport? Fast => _fast;

    public void Dispose()
    {
        _client.Dispose();
        FastClient?.Dispose();
    }

    private Task AnswerAsync(HttpContext context, FailoverResult result)
    {
        var response = context.Response;
        switch (result.Outcome)
        {
            case FailoverOutcome.NoDestination when result.Status == StatusCodes.Status503ServiceUnavailable:
                response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                response.Headers[HeaderNames.RetryAfter] = RetryAfterSeconds(Cluster);
                response.ContentType = "text/plain; charset=utf-8";
                return response.WriteAsync(NoDestinationText(Cluster), context.RequestAborted);
            case FailoverOutcome.NoDestination or FailoverOutcome.Failed when result.Status != 0 && !response.HasStarted:
                response.Clear();
                response.StatusCode = result.Status;
                if (result.CloseConnection)
                {
                    response.Headers.Connection = "close";
                }

                break;
            case FailoverOutcome.ResponseBroken:
                context.Abort(); // part of the response went out: a truncated body is never passed off as complete
                break;
        }

        return Task.CompletedTask;
    }
}
