using System.Buffers;
using Microsoft.AspNetCore.Http;
using Rampart.Proxy.Forwarding.Fast;

namespace Rampart.Proxy.Server;

/// <summary>
/// The framing of a client's chunked request body (RFC 9112 §7.1), read as strictly as Kestrel reads it: a chunk size
/// of hex digits, then an extension after <c>;</c> or the line's end (CRLF: a bare LF is refused, as Kestrel refuses
/// it), CRLF after every chunk's data, trailer fields after the last chunk within the header size limit, then an empty
/// line. Anything else is a 400; a body growing past the body size limit is a 413, trailers past theirs a 431.
/// </summary>
internal sealed class ChunkedRequestFraming
{
    private const int MaxSizeLine = 4096; // a size line with its extensions

    private Phase _phase;
    private long _chunkLeft;
    private long _total;
    private long _limit;
    private long _trailersLeft;

    private enum Phase
    {
        Size,
        Data,
        DataEnd,
        Trailers,
        Done,
    }

    /// <summary>Whether the last chunk and the trailers were read: the body is over.</summary>
    public bool Done => _phase == Phase.Done;

    /// <summary>A new body: at most <paramref name="maxBodyBytes"/> of data, and <paramref name="maxTrailerBytes"/> of trailers.</summary>
    public void Start(long maxBodyBytes, long maxTrailerBytes) => (_phase, _chunkLeft, _total, _limit, _trailersLeft) = (Phase.Size, 0, 0, maxBodyBytes, maxTrailerBytes);

    /// <summary>
    /// Reads the framing at the start of <paramref name="buffer"/>, as far as it goes: where it ends, and how many of the
    /// current chunk's data bytes follow there (0: more bytes are needed, or the body is <see cref="Done"/>).
    /// </summary>
    public (SequencePosition End, long Data) Read(in ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (true)
        {
            switch (_phase)
            {
                case Phase.Data:
                    return (reader.Position, Math.Min(_chunkLeft, reader.Remaining));
                case Phase.DataEnd:
                    if (reader.Remaining < 2)
                    {
                        return (reader.Position, 0);
                    }

                    if (!reader.IsNext("\r\n"u8, advancePast: true))
                    {
                        throw Bad("Bad chunk suffix.");
                    }

                    _phase = Phase.Size;
                    break;
                case Phase.Size:
                    if (!TryReadLine(ref reader, MaxSizeLine, out var line))
                    {
                        return (reader.Position, 0);
                    }

                    _chunkLeft = line.IsSingleSegment ? Size(line.FirstSpan) : SizeOfCopy(line);
                    if (_chunkLeft > _limit - _total)
                    {
                        throw new BadHttpRequestException($"Request body too large. The max request body size is {_limit} bytes.", StatusCodes.Status413PayloadTooLarge);
                    }

                    _phase = _chunkLeft == 0 ? Phase.Trailers : Phase.Data;
                    break;
                case Phase.Trailers:
                    if (!TryReadLine(ref reader, _trailersLeft, out var field))
                    {
                        return (reader.Position, 0);
                    }

                    if (field.IsEmpty)
                    {
                        _phase = Phase.Done;
                        return (reader.Position, 0);
                    }

                    _trailersLeft -= field.Length + 2;
                    CheckTrailer(field.IsSingleSegment ? field.FirstSpan : field.ToArray()); // rare: a trailer across two reads
                    break;
                default:
                    return (reader.Position, 0);
            }
        }
    }

    /// <summary>The reader consumed <paramref name="count"/> of the current chunk's data.</summary>
    public void Took(long count)
    {
        _chunkLeft -= count;
        _total += count;
        if (_chunkLeft == 0 && _phase == Phase.Data)
        {
            _phase = Phase.DataEnd;
        }
    }

    // A line ended by CRLF, without it; false when its end has not come yet (and it is still within max).
    private bool TryReadLine(ref SequenceReader<byte> reader, long max, out ReadOnlySequence<byte> line)
    {
        if (!reader.TryReadTo(out line, (byte)'\n'))
        {
            return reader.Remaining <= max ? false : throw TooLong();
        }

        if (line.Length > max)
        {
            throw TooLong();
        }

        if (line.IsEmpty || line.Slice(line.Length - 1).FirstSpan[0] != (byte)'\r')
        {
            throw Bad(_phase == Phase.Trailers ? "Bad chunked trailer." : "Bad chunk extension."); // a bare LF
        }

        line = line.Slice(0, line.Length - 1);
        return true;
    }

    private BadHttpRequestException TooLong() => _phase == Phase.Trailers
        ? new BadHttpRequestException("Request headers too long.", StatusCodes.Status431RequestHeaderFieldsTooLarge)
        : Bad("Bad chunk size data.");

    private static long SizeOfCopy(in ReadOnlySequence<byte> line)
    {
        Span<byte> copy = stackalloc byte[(int)line.Length]; // within MaxSizeLine
        line.CopyTo(copy);
        return Size(copy);
    }

    private static long Size(ReadOnlySpan<byte> line)
    {
        var digits = 0;
        long size = 0;
        while (digits < line.Length && HttpSyntax.HexValue(line[digits]) is var value and >= 0)
        {
            if (size > long.MaxValue >> 4)
            {
                throw Bad("Bad chunk size data."); // past any body size (leading zeros are fine, as Kestrel reads them)
            }

            size = (size << 4) | (uint)value;
            digits++;
        }

        if (digits == 0 || (digits < line.Length && line[digits] != (byte)';'))
        {
            throw Bad("Bad chunk size data.");
        }

        if (HttpSyntax.HasControl(line[digits..]))
        {
            throw Bad("Bad chunk extension.");
        }

        return size;
    }

    private static void CheckTrailer(ReadOnlySpan<byte> field)
    {
        var colon = field.IndexOf((byte)':');
        if (colon <= 0 || field[..colon].ContainsAnyExcept(HttpSyntax.TokenBytes) || HttpSyntax.HasControl(field[(colon + 1)..]))
        {
            throw Bad("Bad chunked trailer.");
        }
    }

    private static BadHttpRequestException Bad(string message) => new(message, StatusCodes.Status400BadRequest);
}
