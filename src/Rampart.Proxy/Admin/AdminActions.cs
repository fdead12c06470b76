using Rampart.Destinations;

namespace Rampart.Proxy.Admin;

/// <summary>An operator's actions on a destination, by name: the one place the admin endpoint and the fleet apply them.</summary>
internal static class AdminActions
{
    public const string Names = "isolate, reset, drain";

    public static bool IsKnown(string action) => action is "isolate" or "reset" or "drain";

    /// <summary>Applies <paramref name="action"/>, journaled as done by <paramref name="by"/> (<c>admin</c>, or <c>admin on r1</c> for a fleet-wide one).</summary>
    public static void Apply(DestinationState destination, string action, string by)
    {
        switch (action)
        {
            case "isolate":
                destination.Breaker.Isolate("isolated by " + by);
                break;
            case "reset":
                destination.Reset("reset by " + by);
                break;
            case "drain":
                destination.Drain("drained by " + by);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, "unknown action");
        }
    }
}
