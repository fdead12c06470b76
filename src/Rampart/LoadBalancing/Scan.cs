using Rampart.Destinations;

namespace Rampart.LoadBalancing;

/// <summary>What every policy asks of a destination: not tried for this request, available, and its slow-start turn.</summary>
internal static class Scan
{
    public static bool Eligible(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried, int index) =>
        !tried.Contains(index) && destinations[index].IsAvailable && destinations[index].SlowStart.TakeTurn();

    /// <summary>The first eligible destination from <paramref name="start"/>; if slow start turned every one down, the first available.</summary>
    public static int FirstEligible(ReadOnlySpan<DestinationState> destinations, in TriedDestinations tried, int start)
    {
        var n = destinations.Length;
        var fallback = -1;
        for (var i = 0; i < n; i++)
        {
            var index = start + i < n ? start + i : start + i - n;
            if (tried.Contains(index) || !destinations[index].IsAvailable)
            {
                continue;
            }

            if (destinations[index].SlowStart.TakeTurn())
            {
                return index;
            }

            fallback = fallback < 0 ? index : fallback;
        }

        return fallback;
    }
}
