using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Failover;

namespace Rampart.Tests.Failover;

/// <summary>
/// A reference model of the attempt loop's documented rules, written plainly: which attempts a request gets, what each
/// response's verdict is, what counts against which destination, and what the caller is told. It keeps its own retry
/// budget (a twin of the cluster's, on the same clock) and reads availability from the destinations, which the test keeps
/// fixed during a run (drained or not; the breaker and passive health never trip).
/// </summary>
internal sealed class AttemptLoopModel(ClusterState cluster, RetryBudget budget)
{
    private static readonly int[] FailureStatuses = [500, 502, 503, 504];

    public Dictionary<string, long> Failures { get; } = cluster.Destinations.ToDictionary(d => d.Id, _ => 0L);

    public void Begin() => budget.RecordRequest();

    /// <summary>The model's verdict on attempt <paramref name="number"/>'s response, given the destinations tried so far.</summary>
    public ResponseVerdict Verdict(ScriptedRequest request, int number, DestinationState destination, IReadOnlySet<DestinationState> tried, Step step)
    {
        var failure = step.Kind == StepKind.UnexpectedUpgrade || FailureStatuses.Contains(step.Status);
        Failures[destination.Id] += failure ? 1 : 0;
        if (failure && !Last(number) && Idempotent(request) && Replayable(request) && UntriedAvailable(tried) && budget.TryRetry())
        {
            return ResponseVerdict.Retry;
        }

        return step.Kind == StepKind.UnexpectedUpgrade ? ResponseVerdict.Refuse : ResponseVerdict.PassOn;
    }

    /// <summary>
    /// What the model expects after attempt <paramref name="number"/> ended with <paramref name="step"/> (and, for a response,
    /// <paramref name="verdict"/>): <see langword="null"/> for "another attempt", else the result the caller gets.
    /// </summary>
    public Expected? After(ScriptedRequest request, int number, DestinationState destination, IReadOnlySet<DestinationState> tried, Step step, ResponseVerdict verdict)
    {
        switch (step.Kind)
        {
            case StepKind.Status or StepKind.UnexpectedUpgrade:
                return verdict switch
                {
                    ResponseVerdict.Retry => null,
                    ResponseVerdict.Refuse => new Expected(FailoverOutcome.Failed, 502, FailureCause.Destination, number, false),
                    _ => new Expected(FailoverOutcome.Answered, 0, FailureCause.None, number, false),
                };
            case StepKind.CallerCancels:
                return new Expected(FailoverOutcome.CallerGone, 0, FailureCause.Client, number, false);
            case StepKind.TruncatedThenCallerLeaves:
                Failures[destination.Id] += 1;
                return new Expected(FailoverOutcome.CallerGone, 0, FailureCause.Destination, number, false);
        }

        var error = step.Kind == StepKind.DeadlinePasses ? AttemptError.DeadlinePassed : step.Error;
        var cause = Cause(error, step.Body, out var status, out var mayFailOver);
        Failures[destination.Id] += cause == FailureCause.Destination ? 1 : 0;
        if (step.ResponseStarted)
        {
            return new Expected(FailoverOutcome.ResponseBroken, 0, cause, number, false);
        }

        var safe = (Idempotent(request) && Replayable(request)) || step.NothingSent;
        if (!mayFailOver || Last(number) || !safe || !UntriedAvailable(tried) || !budget.TryRetry())
        {
            var byCaller = cause == FailureCause.Client;
            return new Expected(FailoverOutcome.Failed, byCaller && step.CallerStatus != 0 ? step.CallerStatus : status, cause, number, byCaller && request.HasBody);
        }

        return null;
    }

    /// <summary>What the caller gets when no destination is left to acquire before attempt <paramref name="number"/>.</summary>
    public static Expected NoDestination(int number) =>
        new(FailoverOutcome.NoDestination, number == 1 ? 503 : 502, FailureCause.Proxy, number - 1, false);

    public bool UntriedAvailable(IReadOnlySet<DestinationState> tried) => cluster.Destinations.Any(d => !tried.Contains(d) && !d.IsDraining);

    private bool Last(int number) => number >= cluster.Options.Retry.MaxAttempts;

    private static bool Idempotent(ScriptedRequest request) => request.Method is "GET" or "PUT" or "DELETE";

    private bool Replayable(ScriptedRequest request) =>
        !request.HasBody || (Idempotent(request) && cluster.Options.Retry.MaxAttempts > 1 && request.ContentLength <= cluster.Options.Retry.MaxBufferedBodyBytes);

    // The attribution table for the errors the scripts use, restated.
    private static FailureCause Cause(AttemptError error, RequestBodyProgress body, out int status, out bool mayFailOver)
    {
        mayFailOver = false;
        if (body == RequestBodyProgress.Failed)
        {
            status = 400;
            return FailureCause.Client;
        }

        switch (error)
        {
            case AttemptError.Request:
                (status, mayFailOver) = (502, true);
                return FailureCause.Destination;
            case AttemptError.RequestBodyDestination or AttemptError.ResponseBodyDestination:
                status = 502;
                return FailureCause.Destination;
            case AttemptError.RequestTimedOut or AttemptError.DeadlinePassed when body == RequestBodyProgress.Stalled:
                status = 408;
                return FailureCause.Client;
            case AttemptError.RequestTimedOut:
                (status, mayFailOver) = (504, true);
                return FailureCause.Destination;
            case AttemptError.DeadlinePassed:
                status = 504;
                return FailureCause.Destination;
            case AttemptError.RequestBodyClient:
                status = body == RequestBodyProgress.Stalled ? 408 : 400;
                return FailureCause.Client;
            default:
                throw new InvalidOperationException("The scripts do not use " + error);
        }
    }
}

/// <summary>What the model expects the loop to return.</summary>
internal sealed record Expected(FailoverOutcome Outcome, int Status, FailureCause Cause, int Attempts, bool CloseConnection);
