using System.Net;
using System.Text.Json;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Diagnostics;

/// <summary><c>Rampart:AccessLog</c>: a JSON line per proxied request with what the client asked, what it got and where it went, on both data paths.</summary>
public sealed class AccessLogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rampart-access-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("Yarp")]
    [InlineData("Fast")]
    public async Task EachRequest_OneLine_WhatItAskedWhatItGotWhereItWent(string forwarder)
    {
        var path = Path.Combine(_folder, "access.log");
        var f = await ProxyFixture.StartAsync(backends: 2, settings: new Dictionary<string, string?>
        {
            ["Rampart:AccessLog:Enabled"] = "true",
            ["Rampart:AccessLog:Path"] = path,
            ["Rampart:Clusters:web:Forwarder"] = forwarder,
            ["Rampart:Clusters:web:LoadBalancing"] = "RoundRobin",
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        });
        var sent = DateTimeOffset.UtcNow; // lines' times lie between this and the answers' arrival (give or take the clocks' grain)
        DateTimeOffset answered;
        await using (f)
        {
            f.Backends[1].Mode = BackendMode.Error; // a 500 is retried on the other destination: two attempts
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal("ok from b0", await f.Client.GetStringAsync($"/items/{i}?q=x"));
            }

            using var posted = await f.Client.PostAsync("/post", new StringContent("twelve bytes")); // not retried: 500 passed on
            Assert.True(posted.StatusCode is HttpStatusCode.OK or HttpStatusCode.InternalServerError);
            answered = DateTimeOffset.UtcNow;
        }

        // The fixture is stopped: the writer has written every line.
        var lines = (await File.ReadAllLinesAsync(path)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var (line, i) in lines.Take(2).Select((l, i) => (l, i)))
        {
            Assert.Equal("GET", line.GetProperty("method").GetString());
            Assert.Equal($"/items/{i}?q=x", line.GetProperty("target").GetString());
            Assert.Equal(200, line.GetProperty("status").GetInt32());
            Assert.Equal("b0", line.GetProperty("destination").GetString());
            Assert.Equal("web", line.GetProperty("cluster").GetString());
            Assert.Equal("answered", line.GetProperty("outcome").GetString());
            Assert.Equal("ok from b0".Length, line.GetProperty("bytes").GetInt64());
            Assert.Equal("127.0.0.1", line.GetProperty("client").GetString());
            Assert.True(line.GetProperty("duration_ms").GetDouble() >= 0);
            Assert.InRange(line.GetProperty("time").GetDateTimeOffset(), sent.AddMilliseconds(-5), answered);
        }

        Assert.Equal([1, 2], lines.Take(2).Select(l => l.GetProperty("attempts").GetInt32()).Order());
        Assert.Equal("POST", lines[2].GetProperty("method").GetString());
    }

    [Fact]
    public async Task Refusals_AreLoggedToo()
    {
        var path = Path.Combine(_folder, "access.log");
        var f = await ProxyFixture.StartAsync(backends: 1, settings: new Dictionary<string, string?>
        {
            ["Rampart:AccessLog:Enabled"] = "true",
            ["Rampart:AccessLog:Path"] = path,
        });
        await using (f)
        {
            var response = await Adversarial.RawHttp.SendAsync(f.Address, "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n");
            Assert.Equal(405, response.Status);
        }

        var line = JsonDocument.Parse(Assert.Single(await File.ReadAllLinesAsync(path))).RootElement;
        Assert.Equal(405, line.GetProperty("status").GetInt32());
        Assert.Equal("refused", line.GetProperty("outcome").GetString());
        Assert.Equal(0, line.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, line.GetProperty("destination").ValueKind);
    }

    [Fact]
    public async Task OffByDefault_NothingWritten()
    {
        await using var f = await ProxyFixture.StartAsync(backends: 1);
        Assert.Equal("ok from b0", await f.Client.GetStringAsync("/"));
        Assert.Null(f.Proxy.AccessLog);
    }
}
