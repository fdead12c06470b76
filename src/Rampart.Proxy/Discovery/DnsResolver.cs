using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Rampart.Clusters;

namespace Rampart.Proxy.Discovery;

/// <summary>What a name resolved to: its endpoints (port 0 where the destination's address gives it) and how long that stands.</summary>
internal sealed record DnsAnswer(IReadOnlyList<IPEndPoint> Endpoints, TimeSpan TimeToLive);

/// <summary>A resolution that did not give a usable answer: the server failed, did not answer, or named no address.</summary>
internal sealed class DnsResolutionException(string message) : Exception(message);

/// <summary>
/// Asks DNS servers (<see cref="DnsOptions.Servers"/>, else the machine's) for a name's A and AAAA records, or its SRV
/// records and their targets' addresses. No cache of its own: the refresh schedule follows the records' TTL.
/// </summary>
internal sealed class DnsResolver
{
    private readonly LookupClient _client;

    public DnsResolver(DnsOptions options)
    {
        var servers = options.ServerEndpoints();
        var lookup = servers.Count > 0 ? new LookupClientOptions([.. servers.Select(s => new NameServer(s))]) : new LookupClientOptions();
        lookup.UseCache = false;
        lookup.Timeout = options.Timeout;
        lookup.Retries = 1;
        lookup.ThrowDnsErrors = false;
        lookup.ContinueOnDnsError = true;
        _client = new LookupClient(lookup);
        Options = options;
    }

    /// <summary>The options it was made from (a reload that changes them makes another resolver).</summary>
    public DnsOptions Options { get; }

    /// <summary>The endpoints behind <paramref name="host"/>, sorted (same records, same list), never empty.</summary>
    /// <exception cref="DnsResolutionException">No usable answer.</exception>
    public async Task<DnsAnswer> ResolveAsync(string host, DiscoveryMode mode, CancellationToken cancellationToken)
    {
        var answer = mode == DiscoveryMode.DnsSrv ? await ServiceAsync(host, cancellationToken).ConfigureAwait(false) : await AddressesAsync(host, port: 0, additionals: [], cancellationToken).ConfigureAwait(false);
        return answer.Endpoints.Count > 0 ? answer : throw new DnsResolutionException("no address records");
    }

    // A and AAAA, asked together; either failing fails the whole (a half answer would drop destinations that are there).
    private async Task<DnsAnswer> AddressesAsync(string host, int port, IReadOnlyList<DnsResourceRecord> additionals, CancellationToken cancellationToken)
    {
        var known = additionals.OfType<AddressRecord>().Where(r => Same(r.DomainName, host)).ToList();
        if (known.Count > 0)
        {
            return Answer(known, port);
        }

        var a = QueryAsync(host, QueryType.A, cancellationToken);
        var aaaa = QueryAsync(host, QueryType.AAAA, cancellationToken);
        var records = (await a.ConfigureAwait(false)).Answers.OfType<AddressRecord>().Concat((await aaaa.ConfigureAwait(false)).Answers.OfType<AddressRecord>());
        return Answer([.. records.Where(r => Same(r.DomainName, host))], port);
    }

    // SRV: the targets of the lowest priority (the others are backups, and Rampart fails over by itself), each resolved.
    private async Task<DnsAnswer> ServiceAsync(string name, CancellationToken cancellationToken)
    {
        var response = await QueryAsync(name, QueryType.SRV, cancellationToken).ConfigureAwait(false);
        var services = response.Answers.SrvRecords().ToList();
        if (services.Count == 0)
        {
            throw new DnsResolutionException("no SRV records");
        }

        var priority = services.Min(s => s.Priority);
        var resolved = await Task.WhenAll(services.Where(s => s.Priority == priority)
            .Select(s => AddressesAsync(s.Target.Value.TrimEnd('.'), s.Port, response.Additionals, cancellationToken))).ConfigureAwait(false);
        var ttl = resolved.Select(r => r.TimeToLive).Append(TimeSpan.FromSeconds(services.Min(s => s.InitialTimeToLive))).Min();
        return new DnsAnswer([.. resolved.SelectMany(r => r.Endpoints).Distinct().Order(EndpointOrder.Instance)], ttl);
    }

    private async Task<IDnsQueryResponse> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException ex)
        {
            throw new DnsResolutionException($"{type} query: {ex.Message.TrimEnd('.')}");
        }

        // A name that does not exist is an answer with no records; any other error is a failed resolution.
        return !response.HasError || response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
            ? response
            : throw new DnsResolutionException($"{type} query: {response.ErrorMessage}");
    }

    // The TTLs as the server gave them: a record's TimeToLive counts down on the wall clock from when it was read (a
    // loaded machine read 4 for a 5 s record), while the schedule runs on the discovery's own clock.
    private static DnsAnswer Answer(List<AddressRecord> records, int port) => new(
        [.. records.Select(r => new IPEndPoint(r.Address, port)).Distinct().Order(EndpointOrder.Instance)],
        records.Count == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(records.Min(r => r.InitialTimeToLive)));

    private static bool Same(DnsString name, string host) => string.Equals(name.Value.TrimEnd('.'), host.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);

    private sealed class EndpointOrder : IComparer<IPEndPoint>
    {
        public static readonly EndpointOrder Instance = new();

        public int Compare(IPEndPoint? x, IPEndPoint? y)
        {
            var family = x!.AddressFamily.CompareTo(y!.AddressFamily);
            if (family != 0)
            {
                return family;
            }

            var bytes = x.Address.GetAddressBytes().AsSpan().SequenceCompareTo(y.Address.GetAddressBytes());
            return bytes != 0 ? bytes : x.Port.CompareTo(y.Port);
        }
    }
}
