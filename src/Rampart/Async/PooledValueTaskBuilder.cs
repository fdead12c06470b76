using System.Runtime.CompilerServices;

namespace Rampart.Async;

#pragma warning disable CA1822 // the compiler calls every member of the builder pattern on the builder's instance

/// <summary>
/// The async method builder of the request path's methods (<c>[AsyncMethodBuilder(typeof(PooledValueTaskBuilder&lt;&gt;))]</c>):
/// as .NET's <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/>, a method that completes without suspending
/// allocates nothing, and one that suspends lives in a <see cref="PooledBox{TResult, TStateMachine}"/> — of which an
/// event loop's thread keeps dozens per method rather than one (<see cref="Keeping"/>), so that a request allocates
/// none at any concurrency.
/// </summary>
/// <typeparam name="TResult">The method's result.</typeparam>
internal struct PooledValueTaskBuilder<TResult>
{
#pragma warning disable CA1859 // the box's type names the state machine, which the builder's type cannot
    private IPooledBox<TResult>? _box;
#pragma warning restore CA1859
    private Exception? _exception;
    private TResult _result;

    public static PooledValueTaskBuilder<TResult> Create() => default;

    public readonly ValueTask<TResult> Task =>
        _box is { } box ? new ValueTask<TResult>(box, box.Version)
        : _exception is null ? new ValueTask<TResult>(_result)
        : ValueTask.FromException<TResult>(_exception);

    /// <summary>The method's result as a <see cref="ValueTask"/> (for <see cref="PooledValueTaskBuilder"/>).</summary>
    public readonly ValueTask UntypedTask =>
        _box is { } box ? new ValueTask(box, box.Version)
        : _exception is null ? default
        : ValueTask.FromException(_exception);

    // Runs the method up to its first suspension, its execution and synchronization contexts restored after (.NET's own Start).
    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => AsyncTaskMethodBuilder.Create().Start(ref stateMachine);

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
        // Boxed by the first await, never by the runtime.
    }

    public void SetResult(TResult result)
    {
        if (_box is null)
        {
            _result = result;
        }
        else
        {
            _box.SetResult(result);
        }
    }

    public void SetException(Exception exception)
    {
        if (_box is null)
        {
            _exception = exception;
        }
        else
        {
            _box.SetException(exception);
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine => awaiter.OnCompleted(BoxFor(ref stateMachine).MoveNextAction);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => awaiter.UnsafeOnCompleted(BoxFor(ref stateMachine).MoveNextAction);

    // At the first suspension the state machine moves into a box (its builder, this, pointing at the box first, so that
    // both copies do); at every suspension the box takes the execution context to resume in, as .NET's builders do.
    private PooledBox<TResult, TStateMachine> BoxFor<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_box is not PooledBox<TResult, TStateMachine> box)
        {
            box = PooledBox<TResult, TStateMachine>.Rent();
            _box = box;
            box.StateMachine = stateMachine;
        }

        box.Context = ExecutionContext.Capture();
        return box;
    }
}

/// <summary>The builder of a request-path method returning <see cref="ValueTask"/>: see <see cref="PooledValueTaskBuilder{TResult}"/>.</summary>
internal struct PooledValueTaskBuilder
{
    private PooledValueTaskBuilder<VoidResult> _inner;

    public static PooledValueTaskBuilder Create() => default;

    public readonly ValueTask Task => _inner.UntypedTask;

    public readonly void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => _inner.Start(ref stateMachine);

    public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    public void SetResult() => _inner.SetResult(default);

    public void SetException(Exception exception) => _inner.SetException(exception);

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine => _inner.AwaitOnCompleted(ref awaiter, ref stateMachine);

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => _inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);
}
