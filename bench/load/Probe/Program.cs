// The floor of the fast path's issue, rebuilt to measure beside Rampart in one run: Kestrel's transport with a
// ConnectionHandler (no HttpContext), pooled upstream sockets, round robin, body-less GETs and Content-Length
// responses only, the request's bytes forwarded as they came. No routing, health, breaker, failover, metrics, headers
// rules: none of Rampart's decisions. PROBE_INLINE=1 adds Kestrel's inline scheduling (pair it with
// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1). Usage: Probe PORT BACKEND_PORT...
using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

var port = int.Parse(args[0]);
var backends = args.Skip(1).Select(int.Parse).ToArray();
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = Environment.GetEnvironmentVariable("PROBE_INLINE") == "1");
builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.Run(new Forwarder(backends).RunAsync)));
await builder.Build().RunAsync();

internal sealed class Forwarder(int[] ports)
{
    private readonly ConcurrentBag<Upstream>[] _idle = [.. ports.Select(_ => new ConcurrentBag<Upstream>())];
    private int _next;

    public async Task RunAsync(ConnectionContext connection)
    {
        try
        {
            await ServeAsync(connection);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionResetException or OperationCanceledException)
        {
            // wrk hung up at the end of a round: this connection ends, the probe goes on
        }
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var read = await input.ReadAsync();
            var buffer = read.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    return;
                }

                continue;
            }

            var request = buffer.Slice(0, head.Length + 4).ToArray();
            input.AdvanceTo(buffer.GetPosition(head.Length + 4));
            var index = (int)((uint)Interlocked.Increment(ref _next) % (uint)ports.Length);
            var upstream = _idle[index].TryTake(out var pooled) ? pooled : await Upstream.ConnectAsync(ports[index]);
            await upstream.Socket.SendAsync(request, SocketFlags.None);
            await upstream.CopyResponseAsync(output);
            _idle[index].Add(upstream);
            await output.FlushAsync();
        }
    }
}

internal sealed class Upstream(Socket socket)
{
    private readonly byte[] _buffer = new byte[16 * 1024];

    public Socket Socket => socket;

    public static async Task<Upstream> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return new Upstream(socket);
    }

    // Head and Content-Length body, passed on as they come.
    public async Task CopyResponseAsync(PipeWriter output)
    {
        var filled = 0;
        int headEnd;
        while ((headEnd = _buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            var got = await socket.ReceiveAsync(_buffer.AsMemory(filled), SocketFlags.None);
            filled += got > 0 ? got : throw new IOException("the backend closed the connection"); // (idle too long: its keep-alive timeout)
        }

        headEnd += 4;
        var length = ContentLength(_buffer.AsSpan(0, headEnd));
        var remaining = headEnd + length - filled;
        output.Write(_buffer.AsSpan(0, filled));
        while (remaining > 0)
        {
            var got = await socket.ReceiveAsync(_buffer, SocketFlags.None);
            output.Write(_buffer.AsSpan(0, got));
            remaining -= got;
        }
    }

    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("Content-Length: "u8);
        if (at < 0)
        {
            at = head.IndexOf("content-length: "u8);
        }

        var value = head[(at + 16)..];
        return int.Parse(System.Text.Encoding.ASCII.GetString(value[..value.IndexOf("\r\n"u8)]));
    }
}
