using Rampart.Failover;

namespace Rampart.Tests.Failover;

/// <summary>What a scripted transport does on one attempt.</summary>
internal enum StepKind
{
    /// <summary>A response with <see cref="Step.Status"/>.</summary>
    Status,

    /// <summary>A 101 to a request that asked for no upgrade.</summary>
    UnexpectedUpgrade,

    /// <summary>The transport fails with <see cref="Step.Error"/> and the step's evidence.</summary>
    Error,

    /// <summary>The caller goes away during the attempt.</summary>
    CallerCancels,

    /// <summary>The request's deadline passes during the attempt.</summary>
    DeadlinePasses,

    /// <summary>The destination cuts its response short, and the caller, seeing it, leaves: still the destination's failure.</summary>
    TruncatedThenCallerLeaves,
}

/// <summary>One attempt's script.</summary>
internal sealed record Step(
    StepKind Kind,
    int Status = 200,
    AttemptError Error = AttemptError.None,
    RequestBodyProgress Body = RequestBodyProgress.None,
    bool NothingSent = false,
    bool ResponseStarted = false,
    int CallerStatus = 0)
{
    public override string ToString() => Kind switch
    {
        StepKind.Status => Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        StepKind.Error => $"{Error}(body {Body}{(NothingSent ? ", nothing sent" : "")}{(ResponseStarted ? ", response started" : "")}{(CallerStatus != 0 ? $", {CallerStatus}" : "")})",
        _ => Kind.ToString(),
    };
}

/// <summary>One request: its method, body and the script of its attempts (an attempt past the script answers 200).</summary>
internal sealed record ScriptedRequest(string Method, bool HasBody, long? ContentLength, Step[] Steps, int AdvanceMillisAfter)
{
    public Step StepFor(int number) => number <= Steps.Length ? Steps[number - 1] : new Step(StepKind.Status);

    public override string ToString() =>
        $"{Method} body={HasBody}/{ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} [{string.Join(", ", Steps.Select(s => s.ToString()))}] +{AdvanceMillisAfter}ms";
}
