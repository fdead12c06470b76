using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Rampart.Clusters;
using Rampart.Failover;
using Rampart.Proxy.Forwarding;
using Rampart.Proxy.Forwarding.Fast;
using Rampart.Proxy.Server;

namespace Rampart.Benchmarks;

/// <summary>
/// One request's own work on the fast path, without its sockets: what Rampart's server and client do for a request
/// besides moving bytes — parse the client's head, rent the attempt loop, write the head for the destination, parse
/// the destination's head and decide on it, write the response for the client, return the loop. The load run
/// (<c>bench/load/run.sh</c>) measures the whole; this one measures only the part that is Rampart's, with no noise from
/// the machine's other processes. Baseline: parsing the head alone.
/// </summary>
[MemoryDiagnoser]
public class FastServerBenchmarks
{
    // What wrk sends, and what bench/load's backend answers.
    private static readonly ReadOnlySequence<byte> Request = new("GET / HTTP/1.1\r\nHost: 127.0.0.1:8101\r\n\r\n"u8.ToArray());
    private static readonly byte[] Response = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nDate: Mon, 30 Nov 2026 18:00:00 GMT\r\nServer: Kestrel\r\n\r\n"u8.ToArray();
    private static readonly byte[] Body = new byte[100];

    private readonly RequestHead _head = new();
    private readonly Pipe _client = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Pipe _destination = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly ServerLimits _limits = ServerLimits.From(new KestrelServerLimits());
    private ClusterState _cluster = null!;
    private ServerExchange _exchange = null!;
    private Answer _transport = null!;

    [GlobalSetup]
    public void Setup()
    {
        var options = new ClusterOptions();
        for (var i = 0; i < 3; i++)
        {
            options.Destinations[$"d{i}"] = new DestinationOptions { Address = $"http://127.0.0.1:{9201 + i}" };
        }

        _cluster = new ClusterState("bench", options);
        _exchange = new ServerExchange(_client.Writer, IPAddress.Loopback, _limits, TimeProvider.System);
        var pool = new Http1Pool(_cluster.Destinations[0].Endpoint, TimeSpan.FromSeconds(1), TimeProvider.System);
        _transport = new Answer(_destination.Writer, pool, new ForwardedHeaders(ForwardedHeadersMode.Append, ForwardedHeadersFormat.XForwarded));
    }

    [Benchmark(Baseline = true, Description = "the client's head parsed (Kestrel's HttpParser)")]
    public int Parse() => _head.TryRead(Request, _limits);

    [Benchmark(Description = "a whole request's own work: parse, loop, heads both ways, answer")]
    public bool WholeRequest()
    {
        _head.TryRead(Request, _limits);
        var loop = AttemptLoop.Rent(_cluster, _head.Method, hasBody: false, null, CancellationToken.None);
        _exchange.Begin(_head, closing: false, null, null);
        var run = loop.RunAsync<IFastExchange>(_transport, _exchange);
        var result = run.IsCompletedSuccessfully ? run.Result : throw new InvalidOperationException("the transport completes at once");
        loop.Return();
        var end = _exchange.Answer(result, _cluster);
        Drain(_client);
        Drain(_destination);
        return end == ConnectionEnd.KeepAlive;
    }

    private static void Drain(Pipe pipe)
    {
        pipe.Writer.FlushAsync().AsTask().Wait();
        if (pipe.Reader.TryRead(out var read))
        {
            pipe.Reader.AdvanceTo(read.Buffer.End);
        }
    }

    // The fast transport's work on the bytes, with the destination's answer already there.
    private sealed class Answer(PipeWriter destination, Http1Pool pool, ForwardedHeaders forwarded) : IAttemptTransport<IFastExchange>
    {
        private readonly ResponseHead _response = new();

        public ValueTask<AttemptEnd> SendAsync(IFastExchange exchange, AttemptLoop attempts, CancellationToken cancellationToken)
        {
            exchange.WriteHead(destination, pool, forwarded);
            ResponseParser.Parse(Response, exchange.IsHead, _response);
            if (attempts.OnResponse(_response.Status) == ResponseVerdict.PassOn)
            {
                exchange.PassOn(Response, _response);
                exchange.WriteBody(Body);
                exchange.EndBody();
            }

            return ValueTask.FromResult(AttemptEnd.Received);
        }

        public void PrepareRetry(IFastExchange exchange)
        {
        }
    }
}
