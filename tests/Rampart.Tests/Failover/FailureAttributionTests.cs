using Rampart.CircuitBreaking;
using Rampart.Failover;

namespace Rampart.Tests.Failover;

/// <summary>The attribution table, row by row: only what the destination caused counts against it.</summary>
public sealed class FailureAttributionTests
{
    [Theory]
    [InlineData(AttemptError.Request, 502, true)]
    [InlineData(AttemptError.ResponseHeaders, 502, true)]
    [InlineData(AttemptError.UnexpectedUpgrade, 502, true)]
    [InlineData(AttemptError.RequestTimedOut, 504, true)]
    [InlineData(AttemptError.RequestBodyDestination, 502, false)]
    [InlineData(AttemptError.ResponseBodyDestination, 502, false)]
    [InlineData(AttemptError.UpgradeRequestDestination, 502, false)]
    [InlineData(AttemptError.UpgradeResponseDestination, 502, false)]
    [InlineData(AttemptError.DeadlinePassed, 504, false)]
    public void Of_DestinationsDoing_CountsAsFailure(AttemptError error, int status, bool mayFailOver)
    {
        var attribution = FailureAttribution.Of(error, RequestBodyProgress.Complete);

        Assert.Equal(new Attribution(FailureCause.Destination, status, mayFailOver), attribution);
        Assert.Equal(CallResult.Failure, attribution.Result);
    }

    [Theory]
    [InlineData(AttemptError.RequestCanceled)]
    [InlineData(AttemptError.RequestBodyCanceled)]
    [InlineData(AttemptError.RequestBodyClient)]
    [InlineData(AttemptError.RequestCreation)]
    [InlineData(AttemptError.ResponseBodyCanceled)]
    [InlineData(AttemptError.ResponseBodyClient)]
    [InlineData(AttemptError.UpgradeRequestCanceled)]
    [InlineData(AttemptError.UpgradeRequestClient)]
    [InlineData(AttemptError.UpgradeResponseCanceled)]
    [InlineData(AttemptError.UpgradeResponseClient)]
    public void Of_ClientsDoing_IgnoredAndNeverFailedOver(AttemptError error)
    {
        var attribution = FailureAttribution.Of(error, RequestBodyProgress.None);

        Assert.Equal(FailureCause.Client, attribution.Cause);
        Assert.Equal(CallResult.Ignored, attribution.Result);
        Assert.False(attribution.MayFailOver);
    }

    [Theory]
    [InlineData(AttemptError.Request)]
    [InlineData(AttemptError.RequestTimedOut)]
    [InlineData(AttemptError.RequestBodyDestination)]
    [InlineData(AttemptError.ResponseBodyDestination)]
    [InlineData(AttemptError.DeadlinePassed)]
    public void Of_ReadingTheClientsBodyFailed_ClientsFaultWhateverFollowed(AttemptError error)
    {
        var attribution = FailureAttribution.Of(error, RequestBodyProgress.Failed);

        Assert.Equal(new Attribution(FailureCause.Client, 400, false), attribution);
    }

    [Theory]
    [InlineData(AttemptError.RequestTimedOut)]
    [InlineData(AttemptError.DeadlinePassed)]
    [InlineData(AttemptError.RequestBodyClient)]
    public void Of_TimeRanOutWhileWaitingOnTheClientsBody_ClientsFault408(AttemptError error) =>
        Assert.Equal(new Attribution(FailureCause.Client, 408, false), FailureAttribution.Of(error, RequestBodyProgress.Stalled));

    [Fact]
    public void Of_DestinationResetWhileTheClientWasStillSending_StillTheDestinations()
    {
        // The forwarder cancels the body copy after the destination failed: the stall is a consequence, not the cause.
        Assert.Equal(FailureCause.Destination, FailureAttribution.Of(AttemptError.Request, RequestBodyProgress.Stalled).Cause);
    }

    [Fact]
    public void Of_NobodysOrTheProxys_NeverCountsAgainstTheDestination()
    {
        Assert.Equal(CallResult.Ignored, FailureAttribution.Of(AttemptError.UpgradeActivityTimeout, RequestBodyProgress.None).Result);
        Assert.Equal(new Attribution(FailureCause.Proxy, 503, false), FailureAttribution.Of(AttemptError.NoAvailableDestinations, RequestBodyProgress.None));
        Assert.Equal(FailureCause.None, FailureAttribution.Of(AttemptError.None, RequestBodyProgress.Failed).Cause);
        Assert.Equal(CallResult.Ignored, FailureAttribution.Of((AttemptError)999, RequestBodyProgress.None).Result);
    }

    [Fact]
    public void Of_EveryKnownError_HasItsOwnRow()
    {
        foreach (var error in Enum.GetValues<AttemptError>().Where(e => e != AttemptError.None))
        {
            var attribution = FailureAttribution.Of(error, RequestBodyProgress.Complete);
            Assert.True(attribution.Cause != FailureCause.Proxy || error == AttemptError.NoAvailableDestinations, $"{error} fell through to the default row");
        }
    }
}
