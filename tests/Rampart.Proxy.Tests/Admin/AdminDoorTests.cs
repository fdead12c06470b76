using System.Net;
using System.Net.Http.Headers;
using Rampart.CircuitBreaking;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Admin;

/// <summary>The admin listener is a door: safe from a web page the operator visits, even without a token.</summary>
public sealed class AdminDoorTests
{
    [Theory]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    public async Task CrossOriginPost_NoToken_RefusedAndNothingChanges(string header, string value)
    {
        await using var a = await AdminFixture.StartAsync();
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/destinations/web/b0/isolate") { Headers = { { header, value } } };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(CircuitState.Closed, f.Destination(0).Breaker.State);
    }

    [Fact]
    public async Task SameOriginPost_FromTheDashboard_Allowed()
    {
        await using var a = await AdminFixture.StartAsync();
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);
        var origin = admin.Address.GetLeftPart(UriPartial.Authority);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/destinations/web/b0/isolate") { Headers = { { "Origin", origin }, { "Sec-Fetch-Site", "same-origin" } } };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(CircuitState.Isolated, f.Destination(0).Breaker.State);
    }

    [Theory]
    [InlineData("GET", "/status")]
    [InlineData("GET", "/")]
    [InlineData("GET", "/metrics")]
    [InlineData("POST", "/destinations/web/b0/isolate")]
    public async Task ForeignHost_DnsRebinding_Refused(string method, string path)
    {
        await using var a = await AdminFixture.StartAsync();
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);

        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Headers = { Host = $"attacker.example:{admin.Address.Port}" } };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(CircuitState.Closed, f.Destination(0).Breaker.State);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("admin.internal")] // Rampart:Admin:AllowedHosts
    public async Task OwnHost_Localhost_OrAnAllowedName_Served(string host)
    {
        await using var a = await AdminFixture.StartAsync(settings: new Dictionary<string, string?> { ["Rampart:Admin:AllowedHosts:0"] = "admin.internal" });
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/status") { Headers = { Host = $"{host}:{admin.Address.Port}" } };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("Bearer s3cret", HttpStatusCode.OK)]
    [InlineData("bearer s3cret", HttpStatusCode.OK)]
    [InlineData("BEARER   s3cret", HttpStatusCode.OK)]
    [InlineData("Basic s3cret", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer s3cret2", HttpStatusCode.Unauthorized)]
    [InlineData("Bearer", HttpStatusCode.Unauthorized)]
    public async Task Token_FromAuthorization_SchemeInAnyCase(string authorization, HttpStatusCode expected)
    {
        await using var a = await AdminFixture.StartAsync(settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/status");
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Token_InTheQuery_OnlyForTheDashboardPage()
    {
        await using var a = await AdminFixture.StartAsync(settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);

        using var page = await client.GetAsync("/?access_token=s3cret");
        using var status = await client.GetAsync("/status?access_token=s3cret");
        using var post = await client.PostAsync("/destinations/web/b0/isolate?access_token=s3cret", null);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
        Assert.Equal(CircuitState.Closed, f.Destination(0).Breaker.State);
    }

    [Fact]
    public async Task CrossOriginPost_EvenWithTheToken_Refused()
    {
        await using var a = await AdminFixture.StartAsync(settings: new Dictionary<string, string?> { ["Rampart:Admin:Token"] = "s3cret" });
        var (f, admin, client) = (a.Proxy, a.Admin, a.Client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/destinations/web/b0/isolate") { Headers = { { "Origin", "http://evil.example" } } };
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
