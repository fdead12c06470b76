namespace Rampart.Async;

/// <summary>
/// The default execution context (no async-local values): what a request path runs in when what started it carried
/// values the path has no use for (Kestrel's connection log scope), so that resuming its methods switches no context.
/// </summary>
internal static class DefaultContext
{
    /// <summary>The default context itself (captured on a thread that was started without its creator's).</summary>
    public static ExecutionContext Instance { get; } = Capture();

    private static ExecutionContext Capture()
    {
        ExecutionContext? captured = null;
        var thread = new Thread(() => captured = ExecutionContext.Capture()) { IsBackground = true, Name = "Rampart default context" };
        thread.UnsafeStart();
        thread.Join();
        return captured!;
    }
}
