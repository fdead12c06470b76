namespace Rampart.Health;

/// <summary>The result of one active probe.</summary>
/// <param name="Passed">Whether the destination passed.</param>
/// <param name="Detail">What was seen, for people: <c>"200"</c>, <c>"status 500"</c>, <c>"connection refused"</c>, <c>"timed out after 00:00:00.5000000"</c>.</param>
/// <param name="Duration">How long the probe took.</param>
public readonly record struct ProbeResult(bool Passed, string Detail, TimeSpan Duration);
