using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Adversarial;

/// <summary>
/// The other side of attribution: what a destination gets wrong is its own failure. A malformed, truncated or
/// oversized answer never reaches the client as if it were fine, and counts against the destination.
/// </summary>
public sealed class DestinationAnswerTests
{
    public static TheoryData<string> Answers => [.. BadAnswers.Keys];

    // The answer, and whether the client gets a clean 502 (the failure came before any of the response) or an aborted connection.
    private static readonly Dictionary<string, (string Answer, bool Clean502)> BadAnswers = new()
    {
        ["not an HTTP status line"] = ("HTTPX/9 hello\r\n\r\n", true),
        ["closes without answering"] = ("", true),
        ["a header block of 100 KB"] = ("HTTP/1.1 200 OK\r\nX-Big: " + new string('a', 100_000) + "\r\nContent-Length: 2\r\n\r\nok", true),
        ["101 Switching Protocols to a plain GET"] = ("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true),
        ["a body shorter than its Content-Length"] = ("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this", false),
        ["a chunked body with a garbage chunk size"] = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false),
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task BadAnswer_NeverPassedOffAsFine_AndCountsAgainstTheDestination(string name)
    {
        var (answer, clean502) = BadAnswers[name];
        await using var raw = new RawBackend(answer);
        await using var f = await ProxyFixture.StartAsync(backends: 0, settings: new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:Destinations:raw:Address"] = raw.Address.ToString(),
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        });
        var destination = f.Cluster.Destinations.Single();

        for (var i = 0; i < 3; i++) // ConsecutiveFailures is 3
        {
            if (clean502)
            {
                using var response = await f.Client.GetAsync($"/bad/{i}");
                Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
            }
            else
            {
                // The headers may have gone out: the client's connection is aborted, never a complete-looking body.
                await Assert.ThrowsAnyAsync<HttpRequestException>(async () => (await f.Client.GetAsync($"/bad/{i}")).EnsureSuccessStatusCode());
            }
        }

        // A body failure reaches the client (its connection aborted by the forwarder) a moment before the attempt is
        // reported: look again when the destination changes (the third failure ejects it).
        await Wait.UntilAsync(() => destination.Failures == 3 && !destination.IsAvailable, "three failures reported and it ejected", destinations: [destination]);
        Assert.True(raw.Requests >= 3); // SocketsHttpHandler may try a request again itself when a connection closes before any response
    }
}
