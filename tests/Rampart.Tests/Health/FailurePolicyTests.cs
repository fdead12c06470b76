using Rampart.CircuitBreaking;
using Rampart.Health;

namespace Rampart.Tests.Health;

public sealed class FailurePolicyTests
{
    [Theory]
    [InlineData(200, CallResult.Success)]
    [InlineData(404, CallResult.Success)]
    [InlineData(500, CallResult.Failure)]
    [InlineData(501, CallResult.Success)]
    [InlineData(502, CallResult.Failure)]
    [InlineData(503, CallResult.Failure)]
    [InlineData(504, CallResult.Failure)]
    public void Default_ClassifiesTheUsualServerErrorsAsFailures(int status, CallResult expected)
    {
        var (result, detail) = FailurePolicy.Default.ClassifyStatus(status);
        Assert.Equal(expected, result);
        Assert.Equal(expected == CallResult.Failure ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : null, detail);
    }

    [Fact]
    public void ConfiguredList_IsTheOneUsed()
    {
        var policy = new FailurePolicy(StatusCodeSet.Parse("429,500-599"));
        Assert.Equal(CallResult.Failure, policy.ClassifyStatus(429).Result);
        Assert.Equal(CallResult.Failure, policy.ClassifyStatus(501).Result);
    }

    [Fact]
    public void ClientAbort_IsNeverTheDestinationsFailure()
    {
        Assert.Equal((CallResult.Ignored, null), FailurePolicy.ClassifyError(clientAborted: true, "connection reset"));
        Assert.Equal((CallResult.Failure, "connection reset"), FailurePolicy.ClassifyError(clientAborted: false, "connection reset"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void IntervalFor_UnhealthyOrChanging_UsesTheShorterInterval(bool unhealthyOrChanging, bool shorter)
    {
        var options = new ActiveHealthOptions { Interval = TimeSpan.FromSeconds(5), UnhealthyInterval = TimeSpan.FromSeconds(1) };
        Assert.Equal(shorter ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(5), options.IntervalFor(unhealthyOrChanging));
        options.UnhealthyInterval = TimeSpan.FromSeconds(9); // never longer than Interval
        Assert.Equal(TimeSpan.FromSeconds(5), options.IntervalFor(unhealthyOrChanging));
    }
}
