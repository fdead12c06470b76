using System.Net.Sockets;
using System.Text;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Adversarial;

/// <summary>What came back on a raw connection: the status (0 when the connection closed without a response) and the head.</summary>
public sealed record RawResponse(int Status, string Head);

/// <summary>A client that writes exactly the bytes it is given, the way an attacker would, and reads the response head.</summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="request"/> and reads the response head; with <paramref name="closeAfterSending"/>, hangs up instead.</summary>
    public static async Task<RawResponse> SendAsync(Uri address, string request, bool closeAfterSending = false) =>
        await SendAsync(address, Encoding.Latin1.GetBytes(request), closeAfterSending);

    public static async Task<RawResponse> SendAsync(Uri address, byte[] request, bool closeAfterSending = false)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(address.Host, address.Port);
        await socket.SendAsync(request, SocketFlags.None);
        if (closeAfterSending)
        {
            socket.Close(0); // a reset: the client is gone mid-request
            return new RawResponse(0, "");
        }

        return await ReadHeadAsync(socket);
    }

    /// <summary>Reads until the end of a response head or of the connection, within a generous timeout.</summary>
    public static async Task<RawResponse> ReadHeadAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Wait.Generous);
        var received = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                received.AddRange(buffer.AsSpan(0, read));
                if (Encoding.Latin1.GetString([.. received]).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (SocketException)
        {
            // reset by the server: whatever arrived before is the answer
        }

        var head = Encoding.Latin1.GetString([.. received]);
        var status = head.StartsWith("HTTP/1.", StringComparison.Ordinal) && head.Length >= 12 && int.TryParse(head.AsSpan(9, 3), out var code) ? code : 0;
        return new RawResponse(status, head);
    }
}
