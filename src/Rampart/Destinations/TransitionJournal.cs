namespace Rampart.Destinations;

/// <summary>A destination's latest transitions, oldest first, up to <see cref="Capacity"/>. Not thread-safe: its destination's lock guards it.</summary>
internal sealed class TransitionJournal
{
    public const int Capacity = 32;

    private readonly Queue<DestinationTransition> _entries = new(Capacity);

    public void Add(DestinationTransition transition)
    {
        if (_entries.Count == Capacity)
        {
            _entries.Dequeue();
        }

        _entries.Enqueue(transition);
    }

    public DestinationTransition[] ToArray() => [.. _entries];

    /// <summary>Takes over another journal's entries (a reload replaced the destination).</summary>
    public void CopyFrom(TransitionJournal other)
    {
        _entries.Clear();
        foreach (var transition in other._entries)
        {
            _entries.Enqueue(transition);
        }
    }
}
