using Rampart.Health;

namespace Rampart.Destinations;

// A configuration reload: a destination's state carried over to its successor, or the destination retired.
public sealed partial class DestinationState
{
    private bool _retired; // guarded by _lock

    /// <summary>
    /// Takes over <paramref name="previous"/>'s health, ejection, breaker, drain, counters, slow start and journal:
    /// a reload replaced the destination's options. The generation continues from the previous one's, so its
    /// late results stay with it. Counts in sliding windows start afresh.
    /// </summary>
    internal void InheritFrom(DestinationState previous)
    {
        lock (previous._lock)
        {
            lock (_lock)
            {
                _active.InheritFrom(previous._active);
                _passive.InheritFrom_NeedsLock(previous._passive);
                if (_passive.State == PassiveHealthState.Ejected)
                {
                    _budget.TakeInherited();
                }

                _admin = previous._admin;
                (_verdict, _quorum) = (previous._verdict, previous._quorum);
                _journal.CopyFrom(previous._journal);

                // Every traffic count goes on (not in-flight: those requests report to the previous object): a
                // reload is no reset to the counters the metrics publish.
                Volatile.Write(ref _requests, previous.Requests);
                Volatile.Write(ref _successes, previous.Successes);
                Volatile.Write(ref _failures, previous.Failures);
                Volatile.Write(ref _ignored, previous.Ignored);
                Volatile.Write(ref _refusedEjections, previous.RefusedEjections);
                SlowStart.InheritFrom(previous.SlowStart);
                Volatile.Write(ref _exclusions, ExclusionsNow_NeedsLock());
                Volatile.Write(ref _generation, previous._generation + 1);
            }
        }

        Breaker.InheritFrom(previous.Breaker);
    }

    /// <summary>The destination left its cluster (a reload): it gives back its place in the ejection budget and is never ejected again.</summary>
    internal void Retire()
    {
        lock (_lock)
        {
            if (_retired)
            {
                return;
            }

            if (_passive.State == PassiveHealthState.Ejected)
            {
                ReleaseEjection_NeedsLock();
            }

            _budget.RemoveDestination();
            _retired = true;
        }
    }

    /// <summary>Gives the cluster's ejection budget back its place, unless a reload already took the destination out of the cluster.</summary>
    private void ReleaseEjection_NeedsLock()
    {
        if (!_retired)
        {
            _budget.Release();
        }
    }
}
