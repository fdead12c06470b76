using System.Buffers;
using System.Text;
using CsCheck;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>The fast path's response-head parser: strict, never guessing, and no exception but its own on any input.</summary>
public sealed class ResponseParserTests
{
    private static ResponseHead Parse(string head, bool requestWasHead = false)
    {
        var bytes = Encoding.Latin1.GetBytes(head);
        var length = ResponseParser.FindHead(new ReadOnlySequence<byte>(bytes), 64 * 1024);
        Assert.Equal(bytes.Length, length);
        var parsed = new ResponseHead();
        ResponseParser.Parse(bytes, requestWasHead, parsed);
        return parsed;
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, "ContentLength", 5, true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, "Chunked", 0, true)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\nConnection: close\r\n\r\n", 200, "Chunked", 0, false)]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", 200, "UntilClose", 0, false)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n", 200, "ContentLength", 2, false)]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n", 200, "ContentLength", 2, true)]
    [InlineData("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 204, "None", 0, true)]
    [InlineData("HTTP/1.1 304 Not Modified\r\n\r\n", 304, "None", 0, true)]
    [InlineData("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, "ContentLength", 0, true)]
    [InlineData("HTTP/1.1 200 \r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 200, "ContentLength", 1, true)]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nRetry-After:  3 \t\r\nContent-Length: 0\r\n\r\n", 503, "ContentLength", 0, true)]
    public void WellFormedHeads_Parse(string head, int status, string framing, long length, bool keepAlive)
    {
        var parsed = Parse(head);
        Assert.Equal((status, Enum.Parse<BodyFraming>(framing), length, keepAlive), (parsed.Status, parsed.Framing, parsed.ContentLength, parsed.KeepAlive));
    }

    [Fact]
    public void AnswerToHead_HasNoBody_WhateverItSays()
    {
        Assert.Equal(BodyFraming.None, Parse("HTTP/1.1 200 OK\r\nContent-Length: 512\r\n\r\n", requestWasHead: true).Framing);
    }

    [Fact]
    public void HeaderValues_AreTrimmed_AndNamesAndValuesKeptAsBytes()
    {
        var text = "HTTP/1.1 200 OK\r\nX-A:  one two \r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n";
        var parsed = Parse(text);
        var bytes = Encoding.Latin1.GetBytes(text);
        var headers = parsed.Headers.ToArray().Select(h => (Encoding.Latin1.GetString(bytes, h.NameStart, h.NameLength), Encoding.Latin1.GetString(bytes, h.ValueStart, h.ValueLength)));
        Assert.Equal([("X-A", "one two"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], headers);
    }

    [Theory]
    [InlineData("HTTP/2.0 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 099 Low\r\n\r\n")]
    [InlineData("http/1.1 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Space : a\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX(Bad): a\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\n: no name\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Bare-LF: a\nX-B: b\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Ctl: a\u0001b\r\n\r\n")]
    public void AmbiguousHeads_AreMalformed(string head)
    {
        var bytes = Encoding.Latin1.GetBytes(head);
        Assert.Throws<MalformedResponseException>(() => ResponseParser.Parse(bytes, false, new ResponseHead()));
    }

    [Fact]
    public void HeadOverTheLimit_IsMalformed_HeadNotYetComplete_AsksForMore()
    {
        var big = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nX-Big: " + new string('a', 70_000) + "\r\n\r\n");
        Assert.Throws<MalformedResponseException>(() => ResponseParser.FindHead(new ReadOnlySequence<byte>(big), 64 * 1024));
        Assert.Equal(-1, ResponseParser.FindHead(new ReadOnlySequence<byte>("HTTP/1.1 200 OK\r\nX-A: 1\r\n"u8.ToArray()), 64 * 1024));
    }

    [Fact]
    public void AnyBytes_ParseOrAreMalformed_NeverAnotherException()
    {
        var valid = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b\r\nTransfer-Encoding: chunked\r\nConnection: close, x\r\n\r\n");
        var mutated =
            from positions in Gen.Int[0, valid.Length - 1].Array[1, 6]
            from values in Gen.Byte.Array[6]
            select Mutate(valid, positions, values);
        Gen.OneOf(mutated, Gen.Byte.Array[0, 300]).Sample(bytes =>
        {
            try
            {
                var length = ResponseParser.FindHead(new ReadOnlySequence<byte>(bytes), 64 * 1024);
                if (length > 0)
                {
                    ResponseParser.Parse(bytes.AsSpan(0, length), false, new ResponseHead());
                }
            }
            catch (MalformedResponseException)
            {
            }
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("5\r\n", 5, 3)]
    [InlineData("1a;name=value\r\n", 26, 15)]
    [InlineData("0\r\n", 0, 3)]
    [InlineData("FF \t;ext\r\n", 255, 10)]
    public void ChunkSizeLines_Parse(string line, long size, long consumed)
    {
        Assert.True(ChunkedBody.TryReadSize(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(line)), out var parsed, out var used));
        Assert.Equal((size, consumed), (parsed, used));
    }

    [Theory]
    [InlineData("zz\r\n")]
    [InlineData("\r\n")]
    [InlineData("-5\r\n")]
    [InlineData("5 x\r\n")]
    [InlineData("1000000000000000\r\n")]
    public void BadChunkSizeLines_AreMalformed(string line)
    {
        Assert.Throws<MalformedResponseException>(() => ChunkedBody.TryReadSize(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(line)), out _, out _));
    }

    private static byte[] Mutate(byte[] valid, int[] positions, byte[] values)
    {
        var copy = (byte[])valid.Clone();
        for (var i = 0; i < positions.Length; i++)
        {
            copy[positions[i]] = values[i];
        }

        return copy;
    }
}
