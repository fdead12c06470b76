using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Rampart.Async;

/// <summary>
/// What a suspended async method of <see cref="PooledValueTaskBuilder{TResult}"/> lives in: its state machine, the
/// execution context to resume it in, and the completion its caller awaits. Kept per thread for the next call of the
/// same method once its result was read (<see cref="GetResult"/>), as <see cref="KeptObjects{T}"/> keeps objects: per method, up
/// to <see cref="Keeping.EventLoop"/> on a thread that declared itself an event loop, <see cref="Keeping.Other"/> on any
/// other (a thread pool may have many threads: what each keeps stays small), and beyond those <see cref="Keeping.Shared"/>
/// that any thread takes.
/// </summary>
/// <remarks>
/// .NET's <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/> keeps one per thread and one per core: enough for a
/// thread that finishes a call before it starts the next, not for an event loop that finishes a dozen requests in one
/// batch of events and then starts a dozen (each start beyond the first allocated a box: ~870 bytes per request).
/// </remarks>
/// <typeparam name="TResult">The method's result (<see cref="VoidResult"/> for a <see cref="ValueTask"/>).</typeparam>
/// <typeparam name="TStateMachine">The method's state machine.</typeparam>
internal sealed class PooledBox<TResult, TStateMachine> : IPooledBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    // A generic class's thread-local field: reached directly where the method's state machine is a struct (Release).
    [ThreadStatic]
    private static KeptObjects<PooledBox<TResult, TStateMachine>> t_kept;

    private static readonly ContextCallback RunInContext = static box => ((PooledBox<TResult, TStateMachine>)box!).StateMachine!.MoveNext();

    private ManualResetValueTaskSourceCore<TResult> _completion; // continuations run where it completes, as .NET's builders do
    private Action? _moveNext;

    /// <summary>The method's state machine (the builder's copy inside it points here).</summary>
    public TStateMachine? StateMachine;

    /// <summary>The execution context it resumes in (null: the default one).</summary>
    public ExecutionContext? Context;

    /// <summary>Resumes the method (what an awaiter calls when it completes).</summary>
    public Action MoveNextAction => _moveNext ??= MoveNext;

    public short Version => _completion.Version;

    /// <summary>One of this thread's kept boxes, or a new one.</summary>
    public static PooledBox<TResult, TStateMachine> Rent() => t_kept.TryTake() ?? new PooledBox<TResult, TStateMachine>();

    public void MoveNext()
    {
        var context = Context;
        if (context is null)
        {
            StateMachine!.MoveNext();
        }
        else if (ReferenceEquals(context, DefaultContext.Instance) && ReferenceEquals(ExecutionContext.Capture(), context))
        {
            // The default context, resumed where it is the current one (an event loop's thread): nothing to switch to,
            // only what the method may have set (an async-local) to take back, as ExecutionContext.Run would.
            StateMachine!.MoveNext();
            if (!ReferenceEquals(ExecutionContext.Capture(), context))
            {
                ExecutionContext.Restore(context);
            }
        }
        else
        {
            ExecutionContext.Run(context, RunInContext, this);
        }
    }

    public void SetResult(TResult result) => _completion.SetResult(result);

    public void SetException(Exception exception) => _completion.SetException(exception);

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>The result, read once by the caller; then the box is ready for the next call (kept, or left to the GC).</summary>
    public TResult GetResult(short token)
    {
        try
        {
            return _completion.GetResult(token);
        }
        finally
        {
            _completion.Reset();
            StateMachine = default;
            Context = null;
            t_kept.Return(this);
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);
}

/// <summary>A box as its builder sees it, whatever the state machine.</summary>
/// <typeparam name="TResult">The method's result.</typeparam>
internal interface IPooledBox<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    short Version { get; }

    void SetResult(TResult result);

    void SetException(Exception exception);
}

/// <summary>The result of a method that returns none.</summary>
internal readonly struct VoidResult;
