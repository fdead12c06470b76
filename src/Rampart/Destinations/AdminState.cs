namespace Rampart.Destinations;

/// <summary>What an operator has said about a destination.</summary>
public enum AdminState
{
    /// <summary>Nothing: it serves when its health allows.</summary>
    Serving = 0,

    /// <summary>Draining: no new requests; those in flight finish. An admin reset ends it.</summary>
    Draining = 1,
}
