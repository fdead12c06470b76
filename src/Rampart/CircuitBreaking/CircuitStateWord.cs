namespace Rampart.CircuitBreaking;

/// <summary>
/// The breaker's state and generation packed into one <see cref="long"/>, so that one atomic read
/// gives both and one comparison applies the generation rule.
/// </summary>
/// <remarks>The low 3 bits hold the <see cref="CircuitState"/>; the rest is the generation.</remarks>
internal static class CircuitStateWord
{
    private const int StateBits = 3;
    private const long StateMask = (1 << StateBits) - 1;

    public static long Make(long generation, CircuitState state) => (generation << StateBits) | (long)state;

    public static long GenerationOf(long word) => word >> StateBits;

    public static CircuitState StateOf(long word) => (CircuitState)(word & StateMask);

    /// <summary>The next generation in <paramref name="state"/>: every state change goes through here.</summary>
    public static long Next(long word, CircuitState state) => Make(GenerationOf(word) + 1, state);
}
