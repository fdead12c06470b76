using System.Buffers;

namespace Rampart.Proxy.Forwarding.Fast;

/// <summary>The bytes of HTTP/1.1's grammar (RFC 9110 §5.6, RFC 9112 §7.1) that both the response parser and Rampart's own server check.</summary>
internal static class HttpSyntax
{
    /// <summary>The bytes of a token (a field name).</summary>
    public static readonly SearchValues<byte> TokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>Whether <paramref name="text"/> holds a control byte other than a tab (CR, LF, NUL, DEL…): never in a field value or a chunk extension.</summary>
    public static bool HasControl(ReadOnlySpan<byte> text) =>
        text.IndexOfAnyInRange((byte)0, (byte)8) >= 0 || text.IndexOfAnyInRange((byte)10, (byte)31) >= 0 || text.Contains((byte)127);

    /// <summary>A hex digit's value, or -1.</summary>
    public static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
