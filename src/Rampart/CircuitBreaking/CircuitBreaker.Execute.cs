namespace Rampart.CircuitBreaking;

// The one-call convenience for library users; the proxy uses TryAcquire/Report directly.
public sealed partial class CircuitBreaker
{
    /// <summary>Runs <paramref name="callback"/> through the breaker.</summary>
    /// <remarks>
    /// A result is a success; an exception is a failure, except an <see cref="OperationCanceledException"/>
    /// while <paramref name="cancellationToken"/> is cancelled: the caller gave up, which says nothing
    /// about the destination. Allocates nothing beyond the callback's own work when it completes synchronously.
    /// </remarks>
    /// <param name="callback">The call to protect.</param>
    /// <param name="state">Passed to <paramref name="callback"/>, so that it need not capture.</param>
    /// <param name="cancellationToken">Passed to <paramref name="callback"/>.</param>
    /// <exception cref="BrokenCircuitException">The breaker did not admit the call; it carries the time until retry.</exception>
    public async ValueTask<TResult> ExecuteAsync<TState, TResult>(
        Func<TState, CancellationToken, ValueTask<TResult>> callback,
        TState state,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (!TryAcquire(out var permit))
        {
            throw new BrokenCircuitException(State, GetRetryAfter());
        }

        TResult result;
        try
        {
            result = await callback(state, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Report(permit, CallResult.Ignored);
            throw;
        }
        catch (Exception ex)
        {
            Report(permit, CallResult.Failure, ex.GetType().Name);
            throw;
        }

        Report(permit, CallResult.Success);
        return result;
    }

    /// <summary>Runs <paramref name="callback"/> through the breaker; see <see cref="ExecuteAsync{TState, TResult}"/>.</summary>
    /// <exception cref="BrokenCircuitException">The breaker did not admit the call.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(
        Func<CancellationToken, ValueTask<TResult>> callback,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        return ExecuteAsync(static (cb, ct) => cb(ct), callback, cancellationToken);
    }

    /// <summary>Runs <paramref name="callback"/> through the breaker, without cancellation; see <see cref="ExecuteAsync{TState, TResult}"/>.</summary>
    /// <exception cref="BrokenCircuitException">The breaker did not admit the call.</exception>
    public ValueTask<TResult> ExecuteAsync<TResult>(Func<CancellationToken, ValueTask<TResult>> callback) =>
        ExecuteAsync(callback, CancellationToken.None);
}
