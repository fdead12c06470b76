using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Forwarding.Fast;

/// <summary>
/// The same corpus of requests and responses through every data path (<c>Forwarder: Yarp</c>; <c>Fast</c> behind
/// Rampart's own server and behind Kestrel's) to the
/// same recording backend: the same request reaches the backend (method, target, headers, body) and the same response
/// reaches the client (status, headers, body), header order and the documented differences aside.
/// </summary>
public sealed class DifferentialTests : IAsyncLifetime
{
    private readonly List<string> _seen = [];
    private WebApplication? _backend;
    private ProxyFixture? _yarp;
    private ProxyFixture? _fast;
    private ProxyFixture? _fastOnKestrel;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _backend = builder.Build();
        _backend.Run(RecordAndAnswerAsync);
        await _backend.StartAsync();
        var address = _backend.Urls.First();
        _yarp = await Proxy(address, "Yarp");
        _fast = await Proxy(address, "Fast");
        _fastOnKestrel = await Proxy(address, "Fast", fastServer: false);
    }

    public async Task DisposeAsync()
    {
        await _yarp!.DisposeAsync();
        await _fast!.DisposeAsync();
        await _fastOnKestrel!.DisposeAsync();
        await _backend!.DisposeAsync();
    }

    public static TheoryData<string> Corpus => [.. Cases.Keys];

    private static readonly Dictionary<string, Func<HttpRequestMessage>> Cases = new()
    {
        ["GET with a query and headers of many values"] = () => Request(HttpMethod.Get, "/a/b%20c?x=1&y=%2F", ("X-Many", "one"), ("X-Many", "two"), ("Cookie", "a=1"), ("Accept", "text/plain")),
        ["POST with a Content-Length body"] = () => Request(HttpMethod.Post, "/post", body: new StringContent("hello, destination")),
        ["POST with a chunked body"] = () => Request(HttpMethod.Post, "/post", body: new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string('z', 50_000))))),
        ["PUT with an empty body"] = () => Request(HttpMethod.Put, "/put", body: new ByteArrayContent([])),
        ["DELETE"] = () => Request(HttpMethod.Delete, "/thing/7"),
        ["HEAD of a body with a length"] = () => Request(HttpMethod.Head, "/?size=1000"),
        ["204 No Content"] = () => Request(HttpMethod.Get, "/?status=204"),
        ["304 Not Modified"] = () => Request(HttpMethod.Get, "/?status=304"),
        ["404 with a body"] = () => Request(HttpMethod.Get, "/?status=404&size=20"),
        ["503, a failure status, on the last attempt"] = () => Request(HttpMethod.Post, "/?status=503&size=5"),
        ["a chunked response of 1 MB"] = () => Request(HttpMethod.Get, "/?chunked=1&size=1048576"),
        ["an empty 200"] = () => Request(HttpMethod.Get, "/?size=0"),
        ["fifty response headers and two cookies"] = () => Request(HttpMethod.Get, "/?headers=50&cookies=2"),
        ["a header the client's Connection names stays on its hop"] = () => Request(HttpMethod.Get, "/hop", ("Connection", "X-Secret"), ("X-Secret", "s"), ("X-Public", "p")),
        ["a destination that closes after answering"] = () => Request(HttpMethod.Get, "/?close=1&size=3"),
        ["forwarded headers appended to the client's"] = () => Request(HttpMethod.Get, "/fwd", ("X-Forwarded-For", "203.0.113.9")),
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task SameRequestAtTheBackend_SameResponseAtTheClient(string name)
    {
        var viaYarp = await ExchangeAsync(_yarp!, Cases[name]());
        var viaFast = await ExchangeAsync(_fast!, Cases[name]());
        var viaFastOnKestrel = await ExchangeAsync(_fastOnKestrel!, Cases[name]());

        Assert.Equal(viaYarp.Response, viaFast.Response);
        Assert.Equal(viaYarp.Seen, viaFast.Seen);
        Assert.Equal(viaYarp, viaFastOnKestrel);
    }

    [Fact]
    public async Task KeepAliveReuse_ManyExchangesInARow_StayInStep()
    {
        // A response of each framing, one after another on reused connections: no bytes of one leak into the next.
        for (var i = 0; i < 30; i++)
        {
            var query = (i % 3) switch { 0 => "?chunked=1&size=" + (i * 37), 1 => "?size=" + (i * 11), _ => "?status=204" };
            var viaYarp = await ExchangeAsync(_yarp!, Request(HttpMethod.Get, "/seq/" + i + query));
            var viaFast = await ExchangeAsync(_fast!, Request(HttpMethod.Get, "/seq/" + i + query));
            var viaFastOnKestrel = await ExchangeAsync(_fastOnKestrel!, Request(HttpMethod.Get, "/seq/" + i + query));
            Assert.Equal(viaYarp, viaFast);
            Assert.Equal(viaYarp, viaFastOnKestrel);
        }
    }

    private async Task<(string Seen, string Response)> ExchangeAsync(ProxyFixture proxy, HttpRequestMessage request)
    {
        lock (_seen)
        {
            _seen.Clear();
        }

        using var response = await proxy.Client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(h => h.Key is not ("Date" or "Server"))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => h.Key.ToLowerInvariant() + ": " + string.Join(", ", h.Value));
        var described = $"{(int)response.StatusCode} {response.Version}\n{string.Join("\n", headers)}\n{body.Length} bytes, hash {Hash(body)}";
        lock (_seen)
        {
            // Host, X-Forwarded-Host and Forwarded carry the address the client used: each proxy's own port.
            return (string.Join("\n--\n", _seen).Replace(proxy.Address.Authority, "{proxy}", StringComparison.Ordinal), described);
        }
    }

    private async Task RecordAndAnswerAsync(HttpContext context)
    {
        var request = context.Request;
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = request.Headers
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => h.Key.ToLowerInvariant() + ": " + h.Value);
        lock (_seen)
        {
            _seen.Add($"{request.Method} {request.Path}{request.QueryString} {request.Protocol}\n{string.Join("\n", headers)}\n{body.Length} bytes, hash {Hash(Encoding.UTF8.GetBytes(body))}");
        }

        var query = request.Query;
        var response = context.Response;
        response.StatusCode = int.TryParse(query["status"], CultureInfo.InvariantCulture, out var status) ? status : 200;
        for (var i = 0; i < (int.TryParse(query["headers"], CultureInfo.InvariantCulture, out var n) ? n : 0); i++)
        {
            response.Headers["X-Header-" + i] = "value " + i;
        }

        for (var i = 0; i < (int.TryParse(query["cookies"], CultureInfo.InvariantCulture, out var c) ? c : 0); i++)
        {
            response.Headers.Append("Set-Cookie", $"c{i}={i}; Path=/");
        }

        if (query.ContainsKey("close"))
        {
            response.Headers.Connection = "close";
        }

        var size = int.TryParse(query["size"], CultureInfo.InvariantCulture, out var s) ? s : 2;
        if (response.StatusCode is 204 or 304)
        {
            return;
        }

        if (!query.ContainsKey("chunked"))
        {
            response.ContentLength = size;
        }

        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }

        var payload = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("0123456789", (size / 10) + 1)))[..size];
        for (var offset = 0; offset < payload.Length; offset += 16 * 1024)
        {
            await response.Body.WriteAsync(payload.AsMemory(offset, Math.Min(16 * 1024, payload.Length - offset)));
            await response.Body.FlushAsync();
        }
    }

    // Fast: Rampart's own server and the fast path; with fastServer false, the fast path behind Kestrel's server.
    private static Task<ProxyFixture> Proxy(string backend, string forwarder, bool fastServer = true) => ProxyFixture.StartAsync(backends: 0, settings: new Dictionary<string, string?>
    {
        ["Rampart:Server:FastServer"] = fastServer ? "true" : "false",
        ["Rampart:Clusters:web:Destinations:d:Address"] = backend,
        ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        ["Rampart:Clusters:web:Forwarder"] = forwarder,
    });

    private static HttpRequestMessage Request(HttpMethod method, string target, params (string Name, string Value)[] headers) => Request(method, target, null, headers);

    private static HttpRequestMessage Request(HttpMethod method, string target, HttpContent? body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, target) { Content = body };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))[..16];
}
