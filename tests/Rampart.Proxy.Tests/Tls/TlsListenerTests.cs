using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Tests.Infrastructure;
using Rampart.Proxy.Tls;

namespace Rampart.Proxy.Tests.Tls;

/// <summary>
/// <c>https://</c> listeners with certificates from files (made in the test by its own CA): served to a client that trusts
/// that CA, HTTP/2 by ALPN, a certificate per SNI name, rotation on disk without a restart, and the minimum version.
/// </summary>
public sealed class TlsListenerTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rampart-tls-").FullName;
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();
    private TestBackend? _backend;

    public async Task InitializeAsync() => _backend = await TestBackend.StartAsync("b0");

    public async Task DisposeAsync()
    {
        await _backend!.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task HttpsListener_ServedWithTheCertificateFromItsFiles_Http2ByAlpn()
    {
        using var certificate = TestCertificates.Issue(_ca, "proxy.test", "proxy.test");
        var (path, key) = TestCertificates.WritePem(certificate, _folder, "proxy");
        await using var server = await StartAsync(("Rampart:Listeners:0:Tls:Certificate:Path", path), ("Rampart:Listeners:0:Tls:Certificate:KeyPath", key));
        X509Certificate2? shown = null;
        using var client = TestCertificates.TrustingClient(_ca, server.Address, c => shown = c);

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"https://proxy.test:{server.Address.Port}/") { Version = HttpVersion.Version20 });

        Assert.Equal("ok from b0", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(certificate.Thumbprint, shown!.Thumbprint);
    }

    [Fact]
    public async Task CertificateReplacedOnDisk_TheNextConnectionGetsTheNewOne_NoRestart()
    {
        using var first = TestCertificates.Issue(_ca, "first", "proxy.test");
        var (path, key) = TestCertificates.WritePem(first, _folder, "proxy");
        await using var server = await StartAsync(("Rampart:Tls:Certificate:Path", path), ("Rampart:Tls:Certificate:KeyPath", key));
        var shown = new List<string>();
        using (var client = TestCertificates.TrustingClient(_ca, server.Address, c => shown.Add(c.Thumbprint)))
        {
            Assert.Equal("ok from b0", await client.GetStringAsync($"https://proxy.test:{server.Address.Port}/"));
        }

        var certificates = server.Services.GetRequiredService<TlsCertificates>().Find("Rampart:Tls")!;
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        certificates.Reloaded += _ => reloaded.TrySetResult();
        using var second = TestCertificates.Issue(_ca, "second", "proxy.test");
        TestCertificates.WritePem(second, _folder, "proxy");
        await reloaded.Task.WaitAsync(Wait.Generous);

        using (var client = TestCertificates.TrustingClient(_ca, server.Address, c => shown.Add(c.Thumbprint)))
        {
            Assert.Equal("ok from b0", await client.GetStringAsync($"https://proxy.test:{server.Address.Port}/"));
        }

        Assert.Equal([first.Thumbprint, second.Thumbprint], shown);
    }

    [Fact]
    public async Task Sni_EachNameItsCertificate_AWildcard_OthersTheDefault()
    {
        using var fallback = TestCertificates.Issue(_ca, "default", "other.test");
        using var api = TestCertificates.Issue(_ca, "api", "api.example.test");
        using var wildcard = TestCertificates.Issue(_ca, "wildcard", "*.apps.test");
        var (fallbackPath, fallbackKey) = TestCertificates.WritePem(fallback, _folder, "default");
        var (apiPath, apiKey) = TestCertificates.WritePem(api, _folder, "api");
        var (wildcardPath, wildcardKey) = TestCertificates.WritePem(wildcard, _folder, "wildcard");
        await using var server = await StartAsync(
            ("Rampart:Listeners:0:Tls:Certificate:Path", fallbackPath), ("Rampart:Listeners:0:Tls:Certificate:KeyPath", fallbackKey),
            ("Rampart:Listeners:0:Tls:Sni:api.example.test:Path", apiPath), ("Rampart:Listeners:0:Tls:Sni:api.example.test:KeyPath", apiKey),
            ("Rampart:Listeners:0:Tls:Sni:*.apps.test:Path", wildcardPath), ("Rampart:Listeners:0:Tls:Sni:*.apps.test:KeyPath", wildcardKey));

        foreach (var (host, expected) in new[] { ("api.example.test", api), ("shop.apps.test", wildcard), ("other.test", fallback) })
        {
            X509Certificate2? shown = null;
            using var client = TestCertificates.TrustingClient(_ca, server.Address, c => shown = c);
            Assert.Equal("ok from b0", await client.GetStringAsync($"https://{host}:{server.Address.Port}/"));
            Assert.Equal(expected.Thumbprint, shown!.Thumbprint);
        }
    }

    [Fact]
    public async Task MinimumVersionTls13_ATls12OnlyClientIsRefused()
    {
        using var certificate = TestCertificates.Issue(_ca, "proxy.test", "proxy.test");
        var (path, key) = TestCertificates.WritePem(certificate, _folder, "proxy");
        await using var server = await StartAsync(
            ("Rampart:Listeners:0:Tls:Certificate:Path", path), ("Rampart:Listeners:0:Tls:Certificate:KeyPath", key), ("Rampart:Listeners:0:Tls:MinimumVersion", "Tls13"));

        using var tls12 = TestCertificates.TrustingClient(_ca, server.Address, protocols: SslProtocols.Tls12);
        await Assert.ThrowsAsync<HttpRequestException>(() => tls12.GetStringAsync($"https://proxy.test:{server.Address.Port}/"));
        using var tls13 = TestCertificates.TrustingClient(_ca, server.Address, protocols: SslProtocols.Tls13);
        Assert.Equal("ok from b0", await tls13.GetStringAsync($"https://proxy.test:{server.Address.Port}/"));
    }

    [Fact]
    public void Validation_NamesTheKey_OfAFileThatIsMissingOrNotACertificate()
    {
        var notPem = Path.Combine(_folder, "garbage.crt");
        File.WriteAllText(notPem, "not a certificate");
        var errors = Validate(
            ("Rampart:Listeners:0:Url", "https://127.0.0.1:0"),
            ("Rampart:Listeners:0:Tls:Certificate:Path", Path.Combine(_folder, "missing.crt")),
            ("Rampart:Listeners:0:Tls:Certificate:KeyPath", Path.Combine(_folder, "missing.key")),
            ("Rampart:Listeners:1:Url", "https://127.0.0.1:0"),
            ("Rampart:Listeners:1:Tls:Certificate:Path", notPem),
            ("Rampart:Listeners:1:Tls:Certificate:KeyPath", notPem));

        Assert.Contains($"Rampart:Listeners:0:Tls:Certificate:Path '{Path.Combine(_folder, "missing.crt")}' does not exist", errors);
        Assert.Contains(errors, e => e.StartsWith($"Rampart:Listeners:1:Tls:Certificate:Path '{notPem}' could not be loaded with its KeyPath", StringComparison.Ordinal));
    }

    private static List<string> Validate(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Destinations:d:Address"] = "http://127.0.0.1:9",
        }.Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))).Build();
        RampartConfiguration.Load(configuration, out var errors);
        return [.. errors];
    }

    private Task<RampartProxyServer> StartAsync(params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Rampart:Listeners:0:Url"] = "https://127.0.0.1:0",
            ["Rampart:Admin:Listen"] = "",
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Destinations:b0:Address"] = _backend!.Address.ToString(),
            ["Rampart:Clusters:web:HealthCheck:Active:Enabled"] = "false",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        if (values.Keys.Any(k => k.StartsWith("Rampart:Tls:", StringComparison.Ordinal)))
        {
            values.Remove("Rampart:Listeners:0:Url");
            values["Rampart:Listen:0"] = "https://127.0.0.1:0";
        }

        return RampartProxyServer.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
    }
}
