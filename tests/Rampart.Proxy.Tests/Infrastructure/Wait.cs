using Rampart.Destinations;
using Rampart.Health;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>Waiting for asynchronous state changes through events, with a generous timeout; never a fixed sleep.</summary>
public static class Wait
{
    public static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);

    /// <summary>Completes with the first transition of <paramref name="destination"/> that matches, from now on.</summary>
    public static async Task<DestinationTransition> ForTransitionAsync(DestinationState destination, Func<DestinationTransition, bool> match)
    {
        var seen = new TaskCompletionSource<DestinationTransition>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(DestinationTransition t)
        {
            if (match(t))
            {
                seen.TrySetResult(t);
            }
        }

        destination.Changed += OnChanged;
        try
        {
            return await seen.Task.WaitAsync(Generous);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{destination.Id}: no matching transition within {Generous}; journal: "
                + string.Join(" | ", destination.GetTransitions().Select(t => $"{t.From}->{t.To}: {t.Reason}")));
        }
        finally
        {
            destination.Changed -= OnChanged;
        }
    }

    /// <summary>Completes when <paramref name="destination"/>'s active health is <paramref name="state"/>, now or later.</summary>
    public static async Task ForActiveStateAsync(DestinationState destination, ActiveHealthState state)
    {
        var seen = ForTransitionAsync(destination, t => t.To == SignalState.Of(state));
        if (destination.ActiveHealth != state)
        {
            await seen; // subscribed before looking, so the change cannot slip between the two
        }
    }

    /// <summary>
    /// Completes when <paramref name="condition"/> holds: checked now, and again each time one of the sources makes
    /// progress or one of the destinations changes (never on a timer).
    /// </summary>
    public static async Task UntilAsync(Func<bool> condition, string what, IEnumerable<IProgressSource>? sources = null, IEnumerable<DestinationState>? destinations = null)
    {
        var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (condition())
            {
                met.TrySetResult();
            }
        }

        void OnChanged(DestinationTransition _) => Check();
        var watched = sources?.ToList() ?? [];
        var changing = destinations?.ToList() ?? [];
        watched.ForEach(s => s.Progressed += Check);
        changing.ForEach(d => d.Changed += OnChanged);
        try
        {
            Check(); // subscribed first, so that a change cannot slip between the look and the wait
            await met.Task.WaitAsync(Generous);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"not within {Generous}: {what}");
        }
        finally
        {
            watched.ForEach(s => s.Progressed -= Check);
            changing.ForEach(d => d.Changed -= OnChanged);
        }
    }

    public static Task<DestinationTransition> ForActiveAsync(DestinationState destination, ActiveHealthState to) =>
        ForTransitionAsync(destination, t => t.To == SignalState.Of(to));
}
