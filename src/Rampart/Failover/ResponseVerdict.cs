namespace Rampart.Failover;

/// <summary>What a transport does with a response's head, as <see cref="AttemptLoop.OnResponse(int, bool)"/> decides.</summary>
public enum ResponseVerdict
{
    /// <summary>Pass the response on to the caller.</summary>
    PassOn = 0,

    /// <summary>Keep it from the caller and drop it: the request will be tried on another destination.</summary>
    Retry = 1,

    /// <summary>Keep it from the caller: it must not be passed on (a 101 to a request that asked for no upgrade); the loop answers 502.</summary>
    Refuse = 2,
}
