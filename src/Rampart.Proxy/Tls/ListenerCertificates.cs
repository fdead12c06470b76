using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Rampart.Proxy.Configuration;
using Rampart.Tls;

namespace Rampart.Proxy.Tls;

/// <summary>
/// One <c>https://</c> listener's certificates, chosen per connection by the name the client asked for (SNI: exact,
/// then one-label wildcard, then the default), and reloaded when their files change: the next handshake gets the new
/// certificate, connections already open keep theirs. A reload that fails keeps the certificates in use and says why.
/// </summary>
internal sealed partial class ListenerCertificates : IDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(250); // files are often written in steps

    private readonly TlsOptions _options;
    private readonly string _key;
    private readonly ILogger _logger;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly ITimer _settle;
    private Loaded _current;

    public ListenerCertificates(TlsOptions options, string key, ILogger logger, TimeProvider time)
    {
        (_options, _key, _logger) = (options, key, logger);
        _current = Load(out var errors) ?? throw new InvalidOperationException(string.Join("; ", errors));
        _settle = time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var folder in options.Certificates(key)
            .SelectMany(c => new[] { c.Options.Path, c.Options.KeyPath })
            .Where(p => p.Length > 0)
            .Select(p => Path.GetDirectoryName(Path.GetFullPath(p))!)
            .Distinct())
        {
            // The whole folder: a rotation may write a new file and rename it over the old one (or swap a symlink).
            var watcher = new FileSystemWatcher(folder) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime };
            watcher.Changed += OnChange;
            watcher.Created += OnChange;
            watcher.Renamed += OnChange;
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
    }

    /// <summary>Raised after the certificates were reloaded from changed files (with the ones now served).</summary>
    public event Action<ListenerCertificates>? Reloaded;

    /// <summary>The default certificate now served.</summary>
    public X509Certificate2 Default => _current.Default;

    /// <summary>The certificate for a client that asked for <paramref name="serverName"/> (SNI; null when it named none).</summary>
    public X509Certificate2 Select(string? serverName)
    {
        var current = _current;
        if (serverName is { Length: > 0 } && current.ByName.Count > 0)
        {
            if (current.ByName.TryGetValue(serverName, out var exact))
            {
                return exact;
            }

            var dot = serverName.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && current.ByName.TryGetValue("*" + serverName[dot..], out var wildcard))
            {
                return wildcard;
            }
        }

        return current.Default;
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }

        _settle.Dispose();
    }

    private void OnChange(object sender, FileSystemEventArgs e) => _settle.Change(Settle, Timeout.InfiniteTimeSpan);

    private void Reload()
    {
        var loaded = Load(out var errors);
        if (loaded is null)
        {
            Log.ReloadFailed(_logger, _key, string.Join("; ", errors));
            return;
        }

        var previous = _current;
        if (loaded.Thumbprints.SequenceEqual(previous.Thumbprints))
        {
            return; // another file of the folder changed
        }

        _current = loaded; // open connections keep the certificate they were given
        Log.Reloaded(_logger, _key, loaded.Default.Subject, loaded.Default.NotAfter);
        Reloaded?.Invoke(this);
    }

    private Loaded? Load(out List<string> errors)
    {
        errors = [];
        X509Certificate2? fallback = null;
        var byName = new Dictionary<string, X509Certificate2>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, name, options) in _options.Certificates(_key))
        {
            if (CertificateFiles.TryLoad(options, key, out var error) is not { } certificate)
            {
                errors.Add(error!);
                continue;
            }

            if (name is null)
            {
                fallback = certificate;
            }
            else
            {
                byName[name] = certificate;
            }
        }

        if (errors.Count > 0)
        {
            return null;
        }

        // Without a default, a client that names no host (or another one) gets the first SNI certificate.
        return new Loaded(fallback ?? byName.Values.First(), byName);
    }

    private sealed record Loaded(X509Certificate2 Default, Dictionary<string, X509Certificate2> ByName)
    {
        public string[] Thumbprints { get; } = [Default.Thumbprint, .. ByName.OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase).Select(p => p.Value.Thumbprint)];
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5011, Level = LogLevel.Information, Message = "{Key}: certificates reloaded from their files (now serving {Subject}, valid until {NotAfter:u})")]
        public static partial void Reloaded(ILogger logger, string key, string subject, DateTime notAfter);

        [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "{Key}: the changed certificate files could not be loaded ({Problems}); the certificates in use stay")]
        public static partial void ReloadFailed(ILogger logger, string key, string problems);
    }
}
