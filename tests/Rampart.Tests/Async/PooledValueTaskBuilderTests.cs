using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Rampart.Async;

namespace Rampart.Tests.Async;

#pragma warning disable CA2012, xUnit1031 // these tests hold and complete the ValueTasks by hand, on one thread: it is what they test

/// <summary>
/// The request path's async method builder: what a method returns, throws and sees (its execution context) is as with
/// .NET's builders, and an event loop that suspends dozens of calls at once and finishes them all allocates no box for
/// the next dozen (.NET's pooling builder keeps one per thread: an event loop's batch of requests allocated one per
/// call), while any other thread keeps only a few.
/// </summary>
public sealed class PooledValueTaskBuilderTests
{
    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public void AMethodThatDoesNotSuspend_ReturnsItsResult()
    {
        var task = Double(21, gate: null);

        Assert.True(task.IsCompletedSuccessfully);
        Assert.Equal(42, task.Result);
    }

    [Fact]
    public void AMethodThatSuspends_CompletesWhenWhatItAwaitsDoes()
    {
        var gate = new Gate();

        var task = Double(21, gate);
        Assert.False(task.IsCompleted);
        gate.Open(0);

        Assert.True(task.IsCompletedSuccessfully);
        Assert.Equal(42, task.Result);
    }

    [Fact]
    public async Task Exceptions_ReachTheCaller_ThrownBeforeOrAfterASuspension()
    {
        var gate = new Gate();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Throw(gate: null));
        var suspended = Throw(gate);
        gate.Open(0);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await suspended);
        var cancelled = Cancel(gate = new Gate());
        gate.Open(0);
        Assert.True(cancelled.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
    }

    [Fact]
    public void TheMethod_ResumesInItsOwnExecutionContext_NotItsCompletersOne()
    {
        var gate = new Gate();
        Ambient.Value = "caller";
        var task = SeeAmbient(gate);

        ExecutionContext.SuppressFlow();
        try
        {
            Task.Run(() =>
            {
                Ambient.Value = "completer";
                gate.Open(0); // the method resumes on this thread, synchronously
            }).Wait();
        }
        finally
        {
            ExecutionContext.RestoreFlow();
        }

        Assert.Equal("caller", task.Result);
    }

    [Fact]
    public void AMethodOfTheDefaultContext_ResumedOnAThreadInAnother_ResumesInTheDefaultOne()
    {
        var gate = new Gate();
        var task = OnAThreadOfTheDefaultContext(() => SeeAmbient(gate));

        OnAThreadOfTheDefaultContext(() =>
        {
            Ambient.Value = "completer";
            gate.Open(0); // the method resumes on this thread, synchronously
            return 0;
        });

        Assert.Null(task.Result);
    }

    [Fact]
    public void AMethodOfTheDefaultContext_ResumedInIt_LeavesNothingItSetOnTheThreadThatResumedIt()
    {
        var gate = new Gate();
        var task = OnAThreadOfTheDefaultContext(() => SetAmbient(gate, "method"));

        var left = OnAThreadOfTheDefaultContext(() =>
        {
            gate.Open(0); // the method resumes on this thread (of the default context, as an event loop's), synchronously
            return Ambient.Value;
        });

        Assert.Equal("method", task.Result);
        Assert.Null(left);
    }

    [Fact]
    public void AnEventLoopThatFinishesABatchOfCalls_AllocatesNoBoxForTheNextBatch()
    {
        var allocated = OwnThread.Run(() =>
        {
            Keeping.ThisThreadIsAnEventLoop();
            return BatchesAllocate(32); // fewer than an event loop keeps per method
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void AnyOtherThread_KeepsAFew_AndAllThreadsShareABoundedNumber()
    {
        // A thread pool may have many threads: each keeps a few; beyond those, a bounded number shared by all of them.
        var (few, shared, many) = OwnThread.Run(() => (
            BatchesAllocate(Keeping.Other),
            BatchesAllocate(Keeping.Other + Keeping.Shared),
            BatchesAllocate(Keeping.Other + Keeping.Shared + 8)));

        Assert.Equal(0, few);
        Assert.Equal(0, shared);
        Assert.True(many > 0, "what threads keep must be bounded"); // beyond both: allocated anew, and left to the GC
    }

    // Bytes this thread allocates for ten batches of `batch` calls suspended at once, after a first batch.
    private static long BatchesAllocate(int batch)
    {
        var gates = Enumerable.Range(0, batch).Select(_ => new Gate()).ToArray();
        var tasks = new ValueTask<int>[batch];
        RunBatch(gates, tasks); // the first batch allocates the boxes

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 10; round++)
        {
            RunBatch(gates, tasks);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void AValueTaskReturningMethod_CompletesAndThrowsAsOneReturningAResult()
    {
        var gate = new Gate();
        var task = Await(gate);
        Assert.False(task.IsCompleted);
        gate.Open(0);
        Assert.True(task.IsCompletedSuccessfully);
        task.GetAwaiter().GetResult();

        Assert.True(Await(gate: null).IsCompletedSuccessfully);
    }

    // Suspends a call per gate, then completes them all, then reads every result.
    private static void RunBatch(Gate[] gates, ValueTask<int>[] tasks)
    {
        for (var i = 0; i < tasks.Length; i++)
        {
            gates[i].Reset();
            tasks[i] = DoubleMachine.Call(i, gates[i]);
        }

        foreach (var gate in gates)
        {
            gate.Open(0);
        }

        for (var i = 0; i < tasks.Length; i++)
        {
            if (tasks[i].Result != 2 * i)
            {
                throw new InvalidOperationException("wrong result");
            }
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> Double(int value, Gate? gate)
    {
        if (gate is not null)
        {
            await gate.WaitAsync().ConfigureAwait(false); // resumed where the gate opens (xUnit's context would post it)
        }

        return 2 * value;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder))]
    private static async ValueTask Await(Gate? gate)
    {
        if (gate is not null)
        {
            await gate.WaitAsync().ConfigureAwait(false); // resumed where the gate opens (xUnit's context would post it)
        }
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> Throw(Gate? gate)
    {
        if (gate is not null)
        {
            await gate.WaitAsync().ConfigureAwait(false); // resumed where the gate opens (xUnit's context would post it)
        }

        throw new InvalidOperationException("thrown");
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<int> Cancel(Gate gate)
    {
        await gate.WaitAsync().ConfigureAwait(false); // resumed where the gate opens (xUnit's context would post it)
        throw new OperationCanceledException();
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<string?> SeeAmbient(Gate gate)
    {
        await gate.WaitAsync().ConfigureAwait(false); // resumed where the gate opens (xUnit's context would post it)
        return Ambient.Value;
    }

    [AsyncMethodBuilder(typeof(PooledValueTaskBuilder<>))]
    private static async ValueTask<string?> SetAmbient(Gate gate, string value)
    {
        await gate.WaitAsync().ConfigureAwait(false); // resumed where the gate opens (xUnit's context would post it)
        Ambient.Value = value;
        return Ambient.Value;
    }

    // Runs the work on a thread started without the caller's execution context: in the default one, as an event loop's thread.
    private static T OnAThreadOfTheDefaultContext<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() => result = work());
        thread.UnsafeStart();
        thread.Join();
        return result;
    }

    /// <summary>
    /// <see cref="Double"/>'s state machine as the compiler emits it in a Release build (a struct; a Debug build, as this
    /// test project's, makes it a class allocated per call, which would hide what the builder allocates).
    /// </summary>
    private struct DoubleMachine : IAsyncStateMachine
    {
        private PooledValueTaskBuilder<int> _builder;
        private ConfiguredValueTaskAwaitable.ConfiguredValueTaskAwaiter _awaiter;
        private Gate _gate;
        private int _value;
        private int _state;

        public static ValueTask<int> Call(int value, Gate gate)
        {
            var machine = new DoubleMachine { _builder = PooledValueTaskBuilder<int>.Create(), _gate = gate, _value = value };
            machine._builder.Start(ref machine);
            return machine._builder.Task;
        }

        public void MoveNext()
        {
            try
            {
                if (_state == 0)
                {
                    _awaiter = _gate.WaitAsync().ConfigureAwait(false).GetAwaiter();
                    if (!_awaiter.IsCompleted)
                    {
                        _state = 1;
                        _builder.AwaitUnsafeOnCompleted(ref _awaiter, ref this);
                        return;
                    }
                }

                _awaiter.GetResult();
                _state = -1;
            }
            catch (Exception ex)
            {
                _state = -2;
                _builder.SetException(ex);
                return;
            }

            _builder.SetResult(2 * _value);
        }

        public readonly void SetStateMachine(IAsyncStateMachine stateMachine)
        {
        }
    }

    /// <summary>Something to await that completes when the test says, on the test's thread, allocating nothing.</summary>
    private sealed class Gate : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<int> _core;
        private int _waiters;

        public ValueTask WaitAsync()
        {
            _waiters++;
            return new ValueTask(this, _core.Version);
        }

        public void Open(int value)
        {
            if (_waiters > 0)
            {
                _core.SetResult(value);
            }
        }

        public void Reset()
        {
            _core.Reset();
            _waiters = 0;
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        public void GetResult(short token) => _core.GetResult(token);
    }
}
