using System.Text;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding;

/// <summary>Request bodies arrive whole, one request after another on a kept-alive connection, on both data paths.</summary>
public sealed class RequestBodyTests
{
    [Theory]
    [InlineData("Yarp", true)]
    [InlineData("Yarp", false)]
    [InlineData("Fast", true)]
    [InlineData("Fast", false)]
    public async Task BodiesLargerThanOneRead_ArriveWhole_RequestAfterRequest(string forwarder, bool knownLength)
    {
        // A regression: the body's watch once read Kestrel's pipe directly, and a body longer than the first read
        // lost its tail to the next request on the connection (400 for a perfectly good POST).
        await using var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?> { ["Rampart:Clusters:web:Forwarder"] = forwarder });
        for (var i = 0; i < 20; i++)
        {
            var text = new string((char)('a' + i), 50_000 + i);
            HttpContent content = knownLength
                ? new StringContent(text)
                : new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(text)));
            using var response = await f.Client.PostAsync($"/upload/{i}", content);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(Enumerable.Range(0, 20).Select(i => new string((char)('a' + i), 50_000 + i)), f.Backends[0].Bodies);
        Assert.Equal(0, f.Cluster.Destinations[0].Failures);
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false; // no length: the client sends it chunked
    }
}
