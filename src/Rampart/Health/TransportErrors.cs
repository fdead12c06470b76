using System.Net.Sockets;

namespace Rampart.Health;

/// <summary>Short, stable descriptions of transport failures, for transition reasons and logs.</summary>
internal static class TransportErrors
{
    /// <summary>A short, stable description of a transport failure: "connection refused", "connection reset", ...</summary>
    public static string Describe(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.ConnectionReset => "connection reset",
                    SocketError.ConnectionAborted => "connection aborted",
                    SocketError.TimedOut => "connect timed out",
                    SocketError.HostNotFound or SocketError.NoData => "host not found",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
                    _ => "socket error " + socket.SocketErrorCode,
                };
            }
        }

        return ex switch
        {
            HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } => "connection closed before a response",
            HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse } => "invalid response",
            HttpRequestException { HttpRequestError: var error } when error != HttpRequestError.Unknown => error.ToString(),
            IOException => "connection reset",
            _ => ex.GetType().Name,
        };
    }

    /// <summary>Whether <paramref name="ex"/> says no connection was made, so no byte of the request reached the destination.</summary>
    public static bool NothingSent(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return true;
            }

            if (e is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable })
            {
                return true;
            }
        }

        return false;
    }
}
