using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Configuration;
using Rampart.Proxy.Tests.Infrastructure;

namespace Rampart.Proxy.Tests.Tls;

/// <summary>
/// <c>https://</c> destinations (real Kestrel backends with certificates of a CA made in the test): trusted through a CA
/// bundle, a client certificate presented to a backend that requires one (mTLS), SNI set by <c>ServerName</c> — for
/// requests and probes alike.
/// </summary>
public sealed class DestinationTlsTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("rampart-dtls-").FullName;
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();
    private readonly ConcurrentQueue<string?> _sni = new();
    private readonly TaskCompletionSource<string> _probedWithClientCertificate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string _caPath = "";
    private (string Certificate, string Key) _client;

    public Task InitializeAsync()
    {
        _caPath = Path.Combine(_folder, "ca.pem");
        File.WriteAllText(_caPath, _ca.ExportCertificatePem());
        using var client = TestCertificates.Issue(_ca, "rampart-client", loopback: false, "rampart.client");
        _client = TestCertificates.WritePem(client, _folder, "client");
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _ca.Dispose();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task CaBundleAndClientCertificate_RequestsAndProbesReachAnMtlsBackend()
    {
        using var certificate = TestCertificates.Issue(_ca, "backend", "backend.test");
        await using var backend = await StartBackendAsync(certificate, requireClientCertificate: true);
        await using var f = await ProxyAsync(backend, ("Tls:CaPath", _caPath), ("Tls:ClientCertificate:Path", _client.Certificate), ("Tls:ClientCertificate:KeyPath", _client.Key));

        Assert.Equal("hello CN=rampart-client", await f.Client.GetStringAsync("/"));
        Assert.Equal("CN=rampart-client", await _probedWithClientCertificate.Task.WaitAsync(Wait.Generous));
    }

    [Fact]
    public async Task WithoutTheCaBundle_TheBackendIsNotTrusted_502_AndItCountsAgainstIt()
    {
        using var certificate = TestCertificates.Issue(_ca, "backend", "backend.test");
        await using var backend = await StartBackendAsync(certificate, requireClientCertificate: false);
        await using var f = await ProxyAsync(backend);

        using var response = await f.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(f.Cluster.Destinations.Single().Failures >= 1);
    }

    [Fact]
    public async Task ServerName_IsTheSniSent_AndTheNameChecked()
    {
        using var certificate = TestCertificates.Issue(_ca, "internal", loopback: false, "backend.internal");
        await using var backend = await StartBackendAsync(certificate, requireClientCertificate: false);
        await using (var without = await ProxyAsync(backend, ("Tls:CaPath", _caPath)))
        {
            using var refused = await without.Client.GetAsync("/"); // its certificate names backend.internal, not 127.0.0.1
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        }

        await using var f = await ProxyAsync(backend, ("Tls:CaPath", _caPath), ("Tls:ServerName", "backend.internal"));
        Assert.Equal("hello (no client certificate)", await f.Client.GetStringAsync("/"));
        Assert.Contains("backend.internal", _sni);
    }

    [Fact]
    public void Validation_NamesTheKey()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Rampart:Routes:0:Id"] = "all",
            ["Rampart:Routes:0:Cluster"] = "web",
            ["Rampart:Clusters:web:Destinations:d:Address"] = "https://127.0.0.1:9",
            ["Rampart:Clusters:web:Tls:CaPath"] = Path.Combine(_folder, "missing.pem"),
            ["Rampart:Clusters:web:Tls:ClientCertificate:Path"] = _client.Certificate,
            ["Rampart:Clusters:web:Tls:ClientCertificate:KeyPath"] = Path.Combine(_folder, "missing.key"),
            ["Rampart:Clusters:web:Tls:ServerName"] = "not a name",
        }).Build();

        RampartConfiguration.Load(configuration, out var errors);

        Assert.Contains($"Rampart:Clusters:web:Tls:CaPath '{Path.Combine(_folder, "missing.pem")}' does not exist", errors);
        Assert.Contains($"Rampart:Clusters:web:Tls:ClientCertificate:KeyPath '{Path.Combine(_folder, "missing.key")}' does not exist", errors);
        Assert.Contains(errors, e => e.StartsWith("Rampart:Clusters:web:Tls:ServerName must be a host name", StringComparison.Ordinal));
    }

    private Task<ProxyFixture> ProxyAsync(WebApplication backend, params (string Key, string Value)[] tls)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Rampart:Clusters:web:Destinations:tls:Address"] = backend.Urls.First(),
            ["Rampart:Clusters:web:Forwarder"] = "Yarp", // https:// destinations: the fast path speaks plain HTTP only
            ["Rampart:Clusters:web:HealthCheck:Active:Interval"] = "00:00:00.100",
            ["Rampart:Clusters:web:Retry:MaxAttempts"] = "1",
        };
        foreach (var (key, value) in tls)
        {
            settings["Rampart:Clusters:web:" + key] = value;
        }

        return ProxyFixture.StartAsync(backends: 0, settings: settings);
    }

    // A Kestrel backend over TLS that says who the client was, records the SNI it was asked for, and notes the first
    // probe that came with a client certificate.
    private async Task<WebApplication> StartBackendAsync(X509Certificate2 certificate, bool requireClientCertificate)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, name) =>
            {
                _sni.Enqueue(name);
                return certificate;
            },
            ClientCertificateMode = requireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (client, _, _) => client.Issuer == _ca.Subject,
        })));
        var app = builder.Build();
        app.Run(context =>
        {
            var client = context.Connection.ClientCertificate?.Subject;
            if (context.Request.Path == "/health")
            {
                if (client is not null)
                {
                    _probedWithClientCertificate.TrySetResult(client);
                }

                return context.Response.WriteAsync("ok");
            }

            return context.Response.WriteAsync("hello " + (client ?? "(no client certificate)"));
        });
        await app.StartAsync();
        return app;
    }
}
