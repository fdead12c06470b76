using System.Buffers;
using System.Buffers.Text;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// A strict parser of HTTP/1.x response heads (RFC 9112). Anything ambiguous is a malformed response — the
/// destination's failure, never guessed at: a status line that is not <c>HTTP/1.1</c> or <c>HTTP/1.0</c> with three
/// digits, a header name that is not a token or has space before its colon, a folded line, a bare LF, a control
/// character in a value, both <c>Content-Length</c> and <c>Transfer-Encoding</c> (request smuggling's favourite),
/// differing lengths, a transfer coding other than <c>chunked</c>, a head over the size limit.
/// </summary>
internal static class ResponseParser
{
    /// <summary>Finds a complete head at the start of <paramref name="buffer"/>: its length (through the blank line), or -1 when more bytes are needed.</summary>
    /// <exception cref="MalformedResponseException">No head within <paramref name="maxHeadBytes"/>.</exception>
    public static int FindHead(in ReadOnlySequence<byte> buffer, int maxHeadBytes)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            var length = (int)Math.Min(head.Length + 4, int.MaxValue);
            return length <= maxHeadBytes ? length : throw new MalformedResponseException("response head over " + maxHeadBytes + " bytes");
        }

        return buffer.Length >= maxHeadBytes ? throw new MalformedResponseException("response head over " + maxHeadBytes + " bytes") : -1;
    }

    /// <summary>Parses <paramref name="head"/> (a whole head, through its blank line) into <paramref name="result"/>.</summary>
    /// <param name="head">The head's bytes.</param>
    /// <param name="requestWasHead">Whether the request was a HEAD: the response has no body whatever it says.</param>
    /// <param name="result">Filled in.</param>
    /// <exception cref="MalformedResponseException">The head is malformed or ambiguous.</exception>
    public static void Parse(ReadOnlySpan<byte> head, bool requestWasHead, ResponseHead result)
    {
        result.Reset();
        var lineEnd = head.IndexOf("\r\n"u8);
        ParseStatusLine(head[..lineEnd], result);
        var position = lineEnd + 2;
        var contentLength = -1L;
        var chunked = false;
        var close = false;
        var keepAlive = false;
        while (true)
        {
            var rest = head[position..];
            var end = rest.IndexOf("\r\n"u8);
            if (end == 0)
            {
                break; // the blank line
            }

            var line = rest[..end];
            if (line.IndexOfAny((byte)'\n', (byte)'\r') >= 0 || line.Contains((byte)0))
            {
                throw new MalformedResponseException("bare CR, LF or NUL in a header line");
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                throw new MalformedResponseException("folded header line (obs-fold)");
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].ContainsAnyExcept(HttpSyntax.TokenBytes))
            {
                throw new MalformedResponseException("header name is not a token, or has space before its colon");
            }

            var valueStart = colon + 1;
            var value = line[valueStart..];
            var trimmedStart = value.Length - value.TrimStart(" \t"u8).Length;
            value = value.Trim(" \t"u8);
            if (HttpSyntax.HasControl(value))
            {
                throw new MalformedResponseException("control character in a header value");
            }

            var name = line[..colon];
            result.Add(new HeaderRange(position, colon, position + valueStart + trimmedStart, value.Length));
            if (Is(name, "Content-Length"u8))
            {
                if (value.IsEmpty || value.Length > 18 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9')
                    || !Utf8Parser.TryParse(value, out long length, out var used) || used != value.Length)
                {
                    throw new MalformedResponseException("Content-Length is not a number");
                }

                if (contentLength >= 0 && contentLength != length)
                {
                    throw new MalformedResponseException("differing Content-Length headers");
                }

                contentLength = length;
            }
            else if (Is(name, "Transfer-Encoding"u8))
            {
                if (chunked || !Is(value, "chunked"u8))
                {
                    throw new MalformedResponseException("a transfer coding other than one 'chunked'");
                }

                chunked = true;
            }
            else if (Is(name, "Connection"u8))
            {
                foreach (var range in value.Split((byte)','))
                {
                    var option = value[range].Trim(" \t"u8);
                    if (Is(option, "close"u8))
                    {
                        close = true;
                    }
                    else if (Is(option, "keep-alive"u8))
                    {
                        keepAlive = true;
                    }
                    else if (!option.IsEmpty)
                    {
                        result.ConnectionListsNames = true;
                    }
                }
            }

            position += end + 2;
        }

        if (chunked && contentLength >= 0)
        {
            throw new MalformedResponseException("both Content-Length and Transfer-Encoding");
        }

        result.KeepAlive = result.Http11 ? !close : keepAlive && !close;
        var status = result.Status;
        if (requestWasHead || status is (>= 100 and < 200) or 204 or 304)
        {
            result.Framing = BodyFraming.None;
        }
        else if (chunked)
        {
            result.Framing = result.Http11 ? BodyFraming.Chunked : throw new MalformedResponseException("chunked in an HTTP/1.0 response");
        }
        else if (contentLength >= 0)
        {
            (result.Framing, result.ContentLength) = (BodyFraming.ContentLength, contentLength);
        }
        else
        {
            (result.Framing, result.KeepAlive) = (BodyFraming.UntilClose, false);
        }
    }

    private static void ParseStatusLine(ReadOnlySpan<byte> line, ResponseHead result)
    {
        // HTTP-version SP 3DIGIT SP [ reason ]  (a missing SP before an empty reason is tolerated)
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[7] is not ((byte)'0' or (byte)'1') || line[8] != (byte)' '
            || !IsDigit(line[9]) || !IsDigit(line[10]) || !IsDigit(line[11]) || (line.Length > 12 && line[12] != (byte)' '))
        {
            throw new MalformedResponseException("malformed status line");
        }

        if (line.IndexOfAny((byte)'\n', (byte)'\r') >= 0 || line.Contains((byte)0))
        {
            throw new MalformedResponseException("bare CR, LF or NUL in the status line");
        }

        result.Http11 = line[7] == (byte)'1';
        result.Status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (result.Status < 100)
        {
            throw new MalformedResponseException("status below 100");
        }
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    public static bool Is(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerOrMixed) => System.Text.Ascii.EqualsIgnoreCase(text, lowerOrMixed);
}

/// <summary>A response the fast path cannot pass on without guessing: the destination's failure.</summary>
internal sealed class MalformedResponseException(string message) : IOException("malformed response: " + message);
