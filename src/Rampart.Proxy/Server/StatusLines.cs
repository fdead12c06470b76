using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Rampart.Proxy.Server;

/// <summary>The bytes of a response's status line and <c>Date</c> header, made once (a status) or once a second (the date).</summary>
internal static class StatusLines
{
    private static readonly byte[]?[] Lines = new byte[1000][];
    private static DateLine _date = new(0, []);

    /// <summary><c>HTTP/1.1 200 OK\r\n</c>, with the reason phrase Kestrel writes.</summary>
    public static ReadOnlySpan<byte> For(int status)
    {
        if ((uint)status >= (uint)Lines.Length)
        {
            return Encoding.ASCII.GetBytes($"HTTP/1.1 {status} \r\n");
        }

        return Lines[status] ??= Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {ReasonPhrases.GetReasonPhrase(status)}\r\n");
    }

    /// <summary><c>Date: …\r\n</c> for now by <paramref name="time"/>, as Kestrel writes it when the response has none (its value changes once a second).</summary>
    public static ReadOnlySpan<byte> Date(TimeProvider time)
    {
        var now = time.GetUtcNow();
        var second = now.ToUnixTimeSeconds();
        var line = Volatile.Read(ref _date);
        if (line.Second != second)
        {
            line = new DateLine(second, Encoding.ASCII.GetBytes("Date: " + now.ToString("r", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"));
            Volatile.Write(ref _date, line);
        }

        return line.Bytes;
    }

    private sealed record DateLine(long Second, byte[] Bytes);
}
