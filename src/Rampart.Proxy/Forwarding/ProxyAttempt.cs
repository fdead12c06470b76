using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Rampart.Failover;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Forwarding;

/// <summary>
/// One proxied request's state on Kestrel's <c>HttpContext</c>, shared between the forwarder and the transformer
/// through the request's features: the core's attempt loop and the watch on the client's body. Pooled, like the loop:
/// a request rents one and returns it when it is over (the body's watch is the request's own, never pooled). It is
/// also the request's side of the fast path (<see cref="IFastExchange"/>).
/// </summary>
internal sealed class ProxyAttempt : IFastExchange
{
    private static readonly ObjectPool<ProxyAttempt> Pool = new(Environment.ProcessorCount * 64);

    /// <summary>The request's attempts.</summary>
    public AttemptLoop Loop { get; private set; } = null!;

    /// <summary>The request being proxied.</summary>
    public HttpContext Context { get; private set; } = null!;

    /// <summary>The request body as the forwarder reads it, watched for client-caused failures; null for a request without a body.</summary>
    public ClientBodyStream? Body { get; set; }

    public Stream? RequestBody => Context.Request.Body;

    public RequestWriter.Framing Framing =>
        Context.Request.ContentLength is not null ? RequestWriter.Framing.ContentLength
        : Context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true } ? RequestWriter.Framing.Chunked
        : RequestWriter.Framing.None;

    public bool IsHead => HttpMethods.IsHead(Context.Request.Method);

    public System.IO.Pipelines.PipeReader? UpgradeInput => null; // upgrades on Kestrel's server go the YARP way

    public bool ResponseStarted => Context.Response.HasStarted;

    /// <summary>The response body's bytes passed to the client (for the access log).</summary>
    public long BodyBytes { get; private set; }

    public static ProxyAttempt Rent(AttemptLoop loop, HttpContext context)
    {
        var attempt = Pool.TryTake() ?? new ProxyAttempt();
        attempt.Loop = loop;
        attempt.Context = context;
        attempt.BodyBytes = 0;
        return attempt;
    }

    /// <summary>Gives the state (and its loop) back once nothing uses it any more (the forwarder has returned).</summary>
    public void Return()
    {
        Loop.Return();
        Loop = null!;
        Context = null!;
        Body?.Detach();
        Body = null;
        Pool.Return(this);
    }

    public void WriteHead(PipeWriter destination, Http1Pool pool, ForwardedHeaders forwarded) =>
        RequestWriter.WriteHead(destination, Context, pool, forwarded, Framing, Context.Request.ContentLength ?? 0);

    public void PassOn(ReadOnlySpan<byte> head, ResponseHead parsed)
    {
        Context.Response.StatusCode = parsed.Status;
        ResponseHeaders.Copy(head, parsed, Context.Response);
    }

    public void WriteBody(ReadOnlySpan<byte> bytes)
    {
        Context.Response.BodyWriter.Write(bytes);
        BodyBytes += bytes.Length;
    }

    public ValueTask FlushBodyAsync() => Http1Bodies.FlushToClientAsync(Context.Response.BodyWriter);

    public void EndBody()
    {
        // Kestrel ends the response (and its chunked framing) when the request is over.
    }

    public void PrepareRetry()
    {
        BodyBytes = 0;
        Context.Response.Clear();
        if (Context.Request.Body.CanSeek)
        {
            Context.Request.Body.Position = 0;
        }
    }
}
