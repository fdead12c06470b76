using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Configuration;

namespace Rampart.Proxy.Tls;

/// <summary>The certificates of every <c>https://</c> listener of the process, by their configuration key; disposed with the host.</summary>
internal sealed class TlsCertificates(ILoggerFactory loggers, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ListenerCertificates>> _byKey = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggers.CreateLogger("Rampart.Tls");

    /// <summary>The certificates configured under <paramref name="key"/> (loaded, and watched, on first use).</summary>
    public ListenerCertificates For(TlsOptions options, string key) =>
        _byKey.GetOrAdd(key, k => new Lazy<ListenerCertificates>(() => new ListenerCertificates(options, k, _logger, time))).Value;

    /// <summary>The certificates under <paramref name="key"/> when a handshake has loaded them; null before.</summary>
    public ListenerCertificates? Find(string key) => _byKey.TryGetValue(key, out var lazy) && lazy.IsValueCreated ? lazy.Value : null;

    public void Dispose()
    {
        foreach (var certificates in _byKey.Values.Where(l => l.IsValueCreated))
        {
            certificates.Value.Dispose();
        }
    }
}
