using Rampart.Failover;
using Yarp.ReverseProxy.Forwarder;

namespace Rampart.Proxy.Tests.Forwarding;

public sealed class AttemptErrorTests
{
    [Fact]
    public void EveryForwarderError_IsTheAttemptErrorOfTheSameNameAndNumber()
    {
        // The forwarder's error is cast to the core's: a YARP upgrade that adds or renumbers one must fail here.
        foreach (var error in Enum.GetValues<ForwarderError>())
        {
            Assert.Equal(error.ToString(), ((AttemptError)(int)error).ToString());
        }
    }
}
