using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Rampart.Clusters;
using Rampart.Destinations;
using Rampart.Failover;

namespace Rampart.Tests.Failover;

/// <summary>
/// Random clusters and random request scripts (statuses, transport failures, the caller leaving, the deadline passing) run
/// through the real <see cref="AttemptLoop"/> on fake time and through <see cref="AttemptLoopModel"/>: the same destinations
/// tried, the same verdict on every response, the same failures counted against each destination, the same answer, and
/// every lease released.
/// </summary>
public sealed class AttemptLoopModelTests
{
    private sealed record Settings(int Destinations, int DrainedMask, int MaxAttempts, double BudgetRatio, int BudgetFloor);

    private static readonly Gen<Settings> GenSettings =
        from destinations in Gen.Int[1, 4]
        from drained in Gen.Int[0, 15]
        from maxAttempts in Gen.Int[1, 4]
        from ratio in Gen.Int[0, 2].Select(i => new[] { 0.0, 0.5, 1.0 }[i])
        from floor in Gen.Int[0, 2].Select(i => new[] { 0, 1, 3 }[i])
        select new Settings(destinations, drained, maxAttempts, ratio, floor);

    private static readonly Gen<Step> GenStep = Gen.Frequency(
        (40, Gen.Int[0, 4].Select(i => new Step(StepKind.Status, Status: new[] { 200, 404, 500, 503, 502 }[i]))),
        (4, Gen.Const(new Step(StepKind.UnexpectedUpgrade))),
        (20, from nothingSent in Gen.Bool select new Step(StepKind.Error, Error: AttemptError.Request, NothingSent: nothingSent)),
        (8, Gen.Const(new Step(StepKind.Error, Error: AttemptError.RequestTimedOut))),
        (4, Gen.Const(new Step(StepKind.Error, Error: AttemptError.RequestBodyDestination, Body: RequestBodyProgress.Reading))),
        (5, Gen.Const(new Step(StepKind.Error, Error: AttemptError.ResponseBodyDestination, Body: RequestBodyProgress.Complete, ResponseStarted: true))),
        (6, from body in Gen.Int[0, 1].Select(i => i == 0 ? RequestBodyProgress.Failed : RequestBodyProgress.Stalled)
            from status in Gen.Int[0, 1].Select(i => i == 0 ? 0 : 413)
            select new Step(StepKind.Error, Error: AttemptError.RequestBodyClient, Body: body, CallerStatus: status)),
        (4, Gen.Const(new Step(StepKind.Error, Error: AttemptError.RequestTimedOut, Body: RequestBodyProgress.Stalled))),
        (3, Gen.Const(new Step(StepKind.CallerCancels))),
        (2, Gen.Const(new Step(StepKind.TruncatedThenCallerLeaves))),
        (3, from stalled in Gen.Bool select new Step(StepKind.DeadlinePasses, Body: stalled ? RequestBodyProgress.Stalled : RequestBodyProgress.Reading)));

    private static readonly Gen<ScriptedRequest> GenRequest =
        from method in Gen.Int[0, 3].Select(i => new[] { "GET", "POST", "PUT", "PATCH" }[i])
        from hasBody in Gen.Bool
        from length in Gen.Int[0, 2].Select(i => new long?[] { null, 50, 500 }[i])
        from steps in GenStep.Array[0, 5]
        from advance in Gen.Int[0, 3].Select(i => new[] { 0, 100, 2500, 11000 }[i])
        select new ScriptedRequest(method, hasBody, hasBody ? length : 0, steps, advance);

    [Fact]
    public void RandomRequests_BehaveLikeTheModel() =>
        Gen.Select(GenSettings, GenRequest.Array[1, 30]).Sample((settings, requests) => Run(settings, requests), iter: 1500);

    private static void Run(Settings settings, ScriptedRequest[] requests)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));
        var options = new ClusterOptions
        {
            Retry = new RetryOptions { MaxAttempts = settings.MaxAttempts, BudgetRatio = settings.BudgetRatio, MinRetriesPerWindow = settings.BudgetFloor, MaxBufferedBodyBytes = 100 },
            Timeout = TimeSpan.FromSeconds(30),
        };
        options.CircuitBreaker.ConsecutiveFailures = 1_000_000; // availability stays as the test set it: the loop's rules are under test here
        options.CircuitBreaker.FailureRatio = 0;
        options.HealthCheck.Passive.Enabled = false;
        for (var i = 0; i < settings.Destinations; i++)
        {
            options.Destinations[$"d{i}"] = new DestinationOptions { Address = $"http://127.0.0.1:{9001 + i}" };
        }

        var cluster = new ClusterState("web", options, time);
        for (var i = 0; i < settings.Destinations; i++)
        {
            if ((settings.DrainedMask & (1 << i)) != 0)
            {
                cluster.Destinations[i].Drain("test");
            }
        }

        var model = new AttemptLoopModel(cluster, new RetryBudget(settings.BudgetRatio, settings.BudgetFloor, time));
        for (var r = 0; r < requests.Length; r++)
        {
            var request = requests[r];
            using var caller = new CancellationTokenSource();
            var transport = new ScriptedTransport(request, model, time, caller, cluster.Options.Timeout);
            model.Begin();
            var loop = AttemptLoop.Rent(cluster, request.Method, request.HasBody, request.ContentLength, caller.Token);
            Assert.Equal(request.HasBody && request.Method is "GET" or "PUT" && settings.MaxAttempts > 1 && request.ContentLength <= 100, loop.BufferBody);
            var run = loop.RunAsync(transport, request);
            var result = run.IsCompletedSuccessfully ? run.Result : throw new InvalidOperationException("the scripted transport completes at once");
            loop.Return();

            var context = $"request {r} {request}; tried {string.Join(",", transport.Tried.Select(d => d.Id))}";
            var expected = result.Outcome == FailoverOutcome.NoDestination
                ? AttemptLoopModel.NoDestination(transport.Tried.Count + 1)
                : transport.Expected ?? throw new InvalidOperationException($"{context}: the loop stopped where the model tries again ({result})");
            if (result.Outcome == FailoverOutcome.NoDestination)
            {
                Assert.False(model.UntriedAvailable(transport.Tried), $"{context}: the loop found no destination where the model has one");
                Assert.Null(transport.Expected);
            }

            Assert.Equal(expected, new Expected(result.Outcome, result.Status, result.Cause, result.Attempts, result.CloseConnection));
            Assert.Equal(transport.Tried.Count, result.Attempts);
            foreach (var destination in cluster.Destinations)
            {
                Assert.Equal(0, destination.InFlight);
                Assert.True(model.Failures[destination.Id] == destination.Failures, $"{context}: {destination.Id} failures {destination.Failures}, model {model.Failures[destination.Id]}");
            }

            time.Advance(TimeSpan.FromMilliseconds(request.AdvanceMillisAfter));
        }
    }

    /// <summary>Plays a request's script; checks each attempt's destination and verdict against the model as they happen.</summary>
    private sealed class ScriptedTransport(ScriptedRequest request, AttemptLoopModel model, FakeTimeProvider time, CancellationTokenSource caller, TimeSpan timeout)
        : IAttemptTransport<ScriptedRequest>
    {
        public HashSet<DestinationState> Tried { get; } = [];

        public Expected? Expected { get; private set; }

        public ValueTask<AttemptEnd> SendAsync(ScriptedRequest scripted, AttemptLoop attempts, CancellationToken cancellationToken)
        {
            Assert.True(Expected is null, $"the loop tried again where the model answers {Expected}");
            var destination = attempts.Destination;
            Assert.True(!destination.IsDraining && Tried.Add(destination), $"attempt {attempts.Number} went to {destination.Id}: drained or tried before");
            Assert.Equal(Tried.Count, attempts.Number);
            var step = request.StepFor(attempts.Number);
            var verdict = ResponseVerdict.PassOn;
            AttemptEnd end;
            switch (step.Kind)
            {
                case StepKind.Status or StepKind.UnexpectedUpgrade:
                    var upgrade = step.Kind == StepKind.UnexpectedUpgrade;
                    var expected = model.Verdict(request, attempts.Number, destination, Tried, step);
                    verdict = attempts.OnResponse(upgrade ? 101 : step.Status, upgrade);
                    Assert.Equal(expected, verdict);
                    end = AttemptEnd.Received;
                    break;
                case StepKind.CallerCancels:
                    caller.Cancel();
                    Assert.True(cancellationToken.IsCancellationRequested, "the caller's abort reaches the attempt");
                    end = new AttemptEnd(AttemptError.RequestCanceled);
                    break;
                case StepKind.TruncatedThenCallerLeaves:
                    caller.Cancel();
                    end = new AttemptEnd(AttemptError.ResponseBodyDestination, new IOException("truncated"), ResponseStarted: true);
                    break;
                case StepKind.DeadlinePasses:
                    Assert.False(cancellationToken.IsCancellationRequested);
                    time.Advance(timeout);
                    Assert.True(cancellationToken.IsCancellationRequested, "the deadline reaches the attempt");
                    end = new AttemptEnd(AttemptError.RequestCanceled, Body: step.Body);
                    break;
                default:
                    end = new AttemptEnd(step.Error, new IOException("scripted"), step.Body, step.NothingSent, step.ResponseStarted, step.CallerStatus);
                    break;
            }

            Expected = model.After(request, attempts.Number, destination, Tried, step, verdict);
            return ValueTask.FromResult(end);
        }

        public void PrepareRetry(ScriptedRequest scripted) => Assert.Null(Expected);
    }
}
