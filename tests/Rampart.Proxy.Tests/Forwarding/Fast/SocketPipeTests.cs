using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Rampart.Proxy.Forwarding.Fast;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>
/// A destination connection's reader and writer, straight on a socket: over a real loopback connection, what goes in
/// comes out whole and in order whatever the buffer does (grows, moves its content to the front), a read waits for
/// more only after everything was examined, and the end of the stream is seen once what was left is consumed.
/// </summary>
public sealed class SocketPipeTests : IAsyncLifetime
{
    private Socket _near = null!;
    private Socket _far = null!;

    public async Task InitializeAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        _near = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync();
        await _near.ConnectAsync(listener.LocalEndPoint!);
        _far = await accepting;
    }

    public Task DisposeAsync()
    {
        _near.Dispose();
        _far.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Writer_GrowsPastItsBuffer_AndSendsEveryByteInOrder()
    {
        var writer = new SocketWriter(new SystemSocketIo(_near), initialBytes: 16);
        var expected = Bytes(300_000); // more than one send takes on loopback: the rest follows
        writer.Write(expected.AsSpan(0, 10));
        writer.Write(expected.AsSpan(10)); // past the buffer's end: grown, the first bytes kept
        Assert.Equal(expected.Length, writer.UnflushedBytes);
        var receiving = ReceiveAsync(_far, expected.Length);

        await writer.FlushAsync();

        Assert.Equal(0, writer.UnflushedBytes);
        Assert.Equal(expected, await receiving);
    }

    [Fact]
    public async Task Writer_SpanAskedForMoreThanIsLeft_IsOfTheGrownBuffer()
    {
        var writer = new SocketWriter(new SystemSocketIo(_near), initialBytes: 8);
        "abcdef"u8.CopyTo(writer.GetSpan());
        writer.Advance(6);
        var span = writer.GetSpan(100);
        Assert.True(span.Length >= 100);
        "ghij"u8.CopyTo(span);
        writer.Advance(4);
        var receiving = ReceiveAsync(_far, 10);

        await writer.FlushAsync();

        Assert.Equal("abcdefghij", Encoding.ASCII.GetString(await receiving));
    }

    [Fact]
    public async Task Reader_AllExamined_WaitsForMore_PartlyExamined_ReturnsAtOnce()
    {
        var reader = new SocketReader(new SystemSocketIo(_near));
        await _far.SendAsync("HTTP/1.1 200"u8.ToArray());
        var first = await reader.ReadAsync();
        Assert.Equal("HTTP/1.1 200", Text(first.Buffer));
        reader.AdvanceTo(first.Buffer.Start, first.Buffer.End); // all examined, nothing consumed

        Assert.False(reader.TryRead(out _));
        var waiting = reader.ReadAsync();
        Assert.False(waiting.IsCompleted);
        await _far.SendAsync(" OK\r\n\r\nbody"u8.ToArray());
        var second = await waiting;
        Assert.Equal("HTTP/1.1 200 OK\r\n\r\nbody", Text(second.Buffer));

        reader.AdvanceTo(second.Buffer.GetPosition(19)); // the head consumed; the body not examined yet
        Assert.True(reader.TryRead(out var rest));
        Assert.Equal("body", Text(rest.Buffer));
        reader.AdvanceTo(rest.Buffer.End);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public async Task Reader_HeldBytesMovedAndGrown_ComeOutWholeAndInOrder()
    {
        var reader = new SocketReader(new SystemSocketIo(_near), initialBytes: 2048);
        var sent = Bytes(40_000);
        var sending = _far.SendAsync(sent);
        var received = new List<byte>();
        while (received.Count < sent.Length)
        {
            var result = await reader.ReadAsync();
            // Consume all but the last 1,500 bytes held (and all once everything came): the buffer has to move them
            // to its front, then to grow, to make room for the next read.
            var keep = received.Count + result.Buffer.Length == sent.Length ? 0 : Math.Min(1500, result.Buffer.Length);
            var take = result.Buffer.Slice(0, result.Buffer.Length - keep);
            received.AddRange(take.ToArray());
            reader.AdvanceTo(take.End, result.Buffer.End);
        }

        await sending;
        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Reader_EndOfStream_IsCompleted_WithWhatWasLeft()
    {
        var reader = new SocketReader(new SystemSocketIo(_near));
        await _far.SendAsync("tail"u8.ToArray());
        _far.Shutdown(SocketShutdown.Send);

        var result = await reader.ReadAsync();
        while (!result.IsCompleted)
        {
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await reader.ReadAsync();
        }

        Assert.Equal("tail", Text(result.Buffer));
        reader.AdvanceTo(result.Buffer.End);
        Assert.True(reader.TryRead(out var end)); // the end stays seen
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    [Fact]
    public async Task Reader_Cancelled_ThrowsOperationCanceled()
    {
        var reader = new SocketReader(new SystemSocketIo(_near));
        using var cancel = new CancellationTokenSource();
        var waiting = reader.ReadAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
    }

    [Fact]
    public void Reader_PositionOutsideTheLastRead_IsRefused()
    {
        var reader = new SocketReader(new SystemSocketIo(_near));
        var elsewhere = new ReadOnlySequence<byte>(new byte[4]);

        Assert.Throws<ArgumentException>(() => reader.AdvanceTo(elsewhere.End));
    }

    private static byte[] Bytes(int count) => [.. Enumerable.Range(0, count).Select(i => (byte)(i * 7 % 251))];

    private static string Text(ReadOnlySequence<byte> bytes) => Encoding.ASCII.GetString(bytes.ToArray());

    private static async Task<byte[]> ReceiveAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        for (var at = 0; at < count;)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(at));
            Assert.NotEqual(0, read);
            at += read;
        }

        return buffer;
    }
}
