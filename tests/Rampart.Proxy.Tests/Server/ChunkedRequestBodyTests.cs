using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Rampart.Proxy.Server;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace Rampart.Proxy.Tests.Server;

/// <summary>
/// A client's chunked body on Rampart's own server: its data handed out without the framing whatever way the bytes
/// arrive, the next request's bytes left in the connection's pipe, and malformed framing answered as Kestrel answers it.
/// </summary>
public sealed class ChunkedRequestBodyTests
{
    private static readonly ServerLimits Limits = ServerLimits.From(new KestrelServerLimits());

    [Fact]
    public void AnyChunking_ArrivingInPiecesOfAnySize_GivesTheData_AndLeavesTheNextRequest()
    {
        Gen.Select(Gen.Int[1, 300].Array[0, 6], Gen.Int[1, 64], Gen.Bool, Gen.Bool).Sample((sizes, piece, extensions, trailers) =>
        {
            var data = new StringBuilder();
            var framed = new StringBuilder();
            foreach (var size in sizes)
            {
                var chunk = new string((char)('a' + (size % 26)), size);
                data.Append(chunk);
                framed.Append(size.ToString(size % 2 == 0 ? "x" : "X", System.Globalization.CultureInfo.InvariantCulture))
                    .Append(extensions ? ";name=value" : "").Append("\r\n").Append(chunk).Append("\r\n");
            }

            framed.Append("0\r\n").Append(trailers ? "X-Sum: 1\r\nX-Other: two\r\n" : "").Append("\r\n").Append("NEXT");
            var (pipe, body) = Start(Limits);
            var received = new StringBuilder();
            var bytes = Encoding.ASCII.GetBytes(framed.ToString());
            for (var at = 0; at < bytes.Length; at += piece)
            {
                Write(pipe, bytes.AsSpan(at, Math.Min(piece, bytes.Length - at)));
                received.Append(ReadAvailable(body));
            }

            Assert.Equal(data.ToString(), received.ToString());
            Assert.True(body.Done);
            Assert.True(pipe.Reader.TryRead(out var rest));
            Assert.Equal("NEXT", Encoding.ASCII.GetString(rest.Buffer)); // the next request's bytes, untouched
        }, iter: 300);
    }

    [Theory]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n", 400, "Bad chunk size data.")]
    [InlineData("5 \r\nhello\r\n0\r\n\r\n", 400, "Bad chunk size data.")]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n", 400, "Bad chunk size data.")]
    [InlineData("10000000000000000\r\n", 400, "Bad chunk size data.")]
    [InlineData("5\nhello\r\n0\r\n\r\n", 400, "Bad chunk extension.")]
    [InlineData("5;a\rb\r\nhello\r\n0\r\n\r\n", 400, "Bad chunk extension.")]
    [InlineData("5\r\nhelloXX0\r\n\r\n", 400, "Bad chunk suffix.")]
    [InlineData("5\r\nhello\n0\r\n\r\n", 400, "Bad chunk suffix.")]
    [InlineData("0\r\nno colon\r\n\r\n", 400, "Bad chunked trailer.")]
    [InlineData("0\r\n folded: value\r\n\r\n", 400, "Bad chunked trailer.")]
    [InlineData("0\r\nX: a\n\r\n", 400, "Bad chunked trailer.")]
    public void MalformedFraming_IsA400AsKestrelAnswersIt(string framed, int status, string message)
    {
        var (pipe, body) = Start(Limits);
        Write(pipe, Encoding.ASCII.GetBytes(framed));

        var refused = Assert.Throws<BadHttpRequestException>(() => ReadAvailable(body));
        Assert.Equal(status, refused.StatusCode);
        Assert.Equal(message, refused.Message);
    }

    [Fact]
    public void LeadingZerosInASize_AreRead()
    {
        var (pipe, body) = Start(Limits);
        Write(pipe, "0000000000000000000005\r\nhello\r\n0\r\n\r\n"u8);

        Assert.Equal("hello", ReadAvailable(body));
        Assert.True(body.Done);
    }

    [Fact]
    public void ABodyGrowingPastTheLimit_IsA413_BeforeItsDataIsHandedOut()
    {
        var (pipe, body) = Start(Limits with { MaxRequestBodySize = 10 });
        Write(pipe, "6\r\nabcdef\r\n"u8);
        Assert.Equal("abcdef", ReadAvailable(body));

        Write(pipe, "5\r\nghijk\r\n0\r\n\r\n"u8);
        Assert.Equal(413, Assert.Throws<BadHttpRequestException>(() => ReadAvailable(body)).StatusCode);
    }

    [Fact]
    public void TrailersPastTheHeaderSizeLimit_AreA431()
    {
        var (pipe, body) = Start(Limits with { MaxRequestHeadersTotalSize = 64 });
        Write(pipe, Encoding.ASCII.GetBytes("0\r\nX-Long: " + new string('v', 80) + "\r\n\r\n"));

        Assert.Equal(431, Assert.Throws<BadHttpRequestException>(() => ReadAvailable(body)).StatusCode);
    }

    [Fact]
    public async Task TheClientClosingInsideTheBody_IsA400()
    {
        var (pipe, body) = Start(Limits);
        Write(pipe, "5\r\nhel"u8);
        Assert.Equal("hel", ReadAvailable(body));
        await pipe.Writer.CompleteAsync();

        Assert.Equal(400, (await Assert.ThrowsAsync<BadHttpRequestException>(async () => await body.ReadAsync())).StatusCode);
    }

    [Fact]
    public async Task AReadWaitsOnlyForData_FramingAloneDoesNotEndIt()
    {
        var (pipe, body) = Start(Limits);
        Write(pipe, "5\r\n"u8);
        var reading = body.ReadAsync();
        Assert.False(reading.IsCompleted); // a size line, no data yet

        Write(pipe, "he"u8);
        var read = await reading;
        Assert.Equal("he", Encoding.ASCII.GetString(read.Buffer));
        Assert.False(read.IsCompleted);
        body.AdvanceTo(read.Buffer.End);
    }

    private static (Pipe Pipe, RequestBody Body) Start(ServerLimits limits)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var body = new RequestBody(TimeProvider.System);
        body.StartChunked(pipe.Reader, limits, null);
        return (pipe, body);
    }

    private static void Write(Pipe pipe, ReadOnlySpan<byte> bytes)
    {
        pipe.Writer.Write(bytes);
        Assert.True(pipe.Writer.FlushAsync().AsTask().IsCompletedSuccessfully);
    }

    // Everything the body hands out from what has arrived so far.
    private static string ReadAvailable(RequestBody body)
    {
        var text = new StringBuilder();
        while (!body.Done && body.TryRead(out var read))
        {
            text.Append(Encoding.ASCII.GetString(read.Buffer));
            body.AdvanceTo(read.Buffer.End);
        }

        return text.ToString();
    }
}
