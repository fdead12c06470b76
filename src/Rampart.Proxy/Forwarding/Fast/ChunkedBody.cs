using System.Buffers;
using System.IO.Pipelines;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>
/// Reads a chunked body (RFC 9112 §7.1) from a destination strictly: a size line of hex digits (extensions allowed and
/// ignored, bounded), CRLF after every chunk's data, trailers skipped up to a bound. Anything else is malformed.
/// </summary>
internal static class ChunkedBody
{
    private const int MaxLine = 4096;
    private const int MaxTrailers = 64 * 1024;

    /// <summary>Parses a chunk-size line at the start of <paramref name="buffer"/>: the size and the line's length, or false when more bytes are needed.</summary>
    public static bool TryReadSize(in ReadOnlySequence<byte> buffer, out long size, out long consumed)
    {
        (size, consumed) = (0, 0);
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
        {
            return buffer.Length < MaxLine ? false : throw new MalformedResponseException("chunk size line too long");
        }

        if (line.Length > MaxLine)
        {
            throw new MalformedResponseException("chunk size line too long");
        }

        Span<byte> copy = stackalloc byte[(int)line.Length];
        line.CopyTo(copy);
        var digits = 0;
        while (digits < copy.Length && HttpSyntax.HexValue(copy[digits]) >= 0)
        {
            if (digits == 15)
            {
                throw new MalformedResponseException("chunk size too large");
            }

            size = (size << 4) | (uint)HttpSyntax.HexValue(copy[digits++]);
        }

        var extension = copy[digits..].TrimStart(" \t"u8);
        if (digits == 0 || (extension.Length > 0 && extension[0] != (byte)';') || HttpSyntax.HasControl(extension))
        {
            throw new MalformedResponseException("malformed chunk size line");
        }

        consumed = line.Length + 2;
        return true;
    }

    /// <summary>Skips the trailer section after the last chunk: true when it was complete (through its blank line), with how much it took.</summary>
    public static bool TrySkipTrailers(in ReadOnlySequence<byte> buffer, out long consumed)
    {
        consumed = 0;
        if (buffer.Length >= 2 && buffer.FirstSpan.Length >= 2 && buffer.FirstSpan[0] == (byte)'\r' && buffer.FirstSpan[1] == (byte)'\n')
        {
            consumed = 2;
            return true;
        }

        var reader = new SequenceReader<byte>(buffer);
        if (reader.TryReadTo(out ReadOnlySequence<byte> trailers, "\r\n\r\n"u8))
        {
            consumed = trailers.Length + 4;
            return consumed <= MaxTrailers ? true : throw new MalformedResponseException("trailers too large");
        }

        return buffer.Length < MaxTrailers ? false : throw new MalformedResponseException("trailers too large");
    }

    /// <summary>Checks the CRLF that ends a chunk's data.</summary>
    public static bool TryReadDataEnd(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 2)
        {
            return false;
        }

        Span<byte> end = stackalloc byte[2];
        buffer.Slice(0, 2).CopyTo(end);
        return end[0] == (byte)'\r' && end[1] == (byte)'\n' ? true : throw new MalformedResponseException("chunk data not followed by CRLF");
    }

    /// <summary>Writes one chunk (size line, data, CRLF) of a request body to a destination.</summary>
    public static void WriteChunk(PipeWriter writer, ReadOnlySpan<byte> data)
    {
        var span = writer.GetSpan(18);
        data.Length.TryFormat(span, out var written, "x", System.Globalization.CultureInfo.InvariantCulture);
        span[written++] = (byte)'\r';
        span[written++] = (byte)'\n';
        writer.Advance(written);
        writer.Write(data);
        writer.Write("\r\n"u8);
    }
}
