using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>How the <see cref="LoopbackDnsServer"/> answers every query.</summary>
public enum DnsServerMode
{
    /// <summary>From its records: an unknown name is NXDOMAIN.</summary>
    Answer,

    /// <summary>SERVFAIL.</summary>
    ServerFailure,

    /// <summary>Nothing at all: the resolver times out.</summary>
    Silent,
}

/// <summary>
/// A small authoritative DNS server on 127.0.0.1 (UDP), whose A, AAAA and SRV records a test sets and changes while it
/// runs: discovery is tested against a real server on the wire, never the machine's resolver.
/// </summary>
public sealed class LoopbackDnsServer : IAsyncDisposable, IProgressSource
{
    private const ushort TypeA = 1, TypeAaaa = 28, TypeSrv = 33;
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly ConcurrentDictionary<(string Name, ushort Type), Record[]> _records = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private int _queries;

    public LoopbackDnsServer() => _serving = ServeAsync();

    public event Action? Progressed;

    /// <summary>Where it listens, as <c>Rampart:Dns:Servers:0</c> takes it.</summary>
    public string Endpoint => ((IPEndPoint)_udp.Client.LocalEndPoint!).ToString();

    public DnsServerMode Mode { get; set; }

    /// <summary>Queries received, answered or not.</summary>
    public int Queries => Volatile.Read(ref _queries);

    /// <summary>Sets the A (and AAAA) records of <paramref name="name"/>; none makes it NXDOMAIN.</summary>
    public void SetAddresses(string name, int ttl, params IPAddress[] addresses)
    {
        _records[(Key(name), TypeA)] = [.. addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => new Record(ttl, a.GetAddressBytes()))];
        _records[(Key(name), TypeAaaa)] = [.. addresses.Where(a => a.AddressFamily == AddressFamily.InterNetworkV6).Select(a => new Record(ttl, a.GetAddressBytes()))];
    }

    /// <summary>Sets the SRV records of <paramref name="name"/>: each a target host and port (priority <paramref name="priority"/>, weight 1).</summary>
    public void SetService(string name, int ttl, ushort priority, params (string Target, int Port)[] targets) =>
        _records[(Key(name), TypeSrv)] = [.. (_records.GetValueOrDefault((Key(name), TypeSrv)) ?? []).Where(r => BinaryPrimitives.ReadUInt16BigEndian(r.Data) != priority),
            .. targets.Select(t => new Record(ttl, Srv(priority, t.Target, t.Port)))];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // stopped
        }

        _stop.Dispose();
    }

    private static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var received = await _udp.ReceiveAsync(_stop.Token);
            Interlocked.Increment(ref _queries);
            if (Mode != DnsServerMode.Silent && Answer(received.Buffer) is { } answer)
            {
                await _udp.SendAsync(answer, received.RemoteEndPoint, _stop.Token);
            }

            Progressed?.Invoke();
        }
    }

    // Header (12 bytes), one question (labels, type, class); the answer repeats the question and points back at its name.
    private byte[]? Answer(byte[] query)
    {
        if (query.Length < 17 || BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(4)) != 1)
        {
            return null;
        }

        var position = 12;
        var labels = new List<string>();
        while (position < query.Length && query[position] != 0)
        {
            int length = query[position];
            labels.Add(Encoding.ASCII.GetString(query, position + 1, length));
            position += length + 1;
        }

        var questionEnd = position + 5;
        if (questionEnd > query.Length)
        {
            return null;
        }

        var type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(position + 1));
        var name = Key(string.Join('.', labels));
        var records = _records.GetValueOrDefault((name, type)) ?? [];
        var exists = _records.Any(r => r.Key.Name == name && r.Value.Length > 0);
        var rcode = Mode == DnsServerMode.ServerFailure ? 2 : exists ? 0 : 3;
        if (rcode != 0)
        {
            records = [];
        }

        using var answer = new MemoryStream();
        Span<byte> header = stackalloc byte[12];
        query.AsSpan(0, 2).CopyTo(header); // the id
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(0x8400 | (query[2] & 0x01) << 8 | 0x80 | rcode)); // QR, AA, RD as asked, RA, rcode
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], (ushort)records.Length);
        answer.Write(header);
        answer.Write(query, 12, questionEnd - 12);
        Span<byte> fixedPart = stackalloc byte[12];
        foreach (var record in records)
        {
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart, 0xC00C); // the question's name
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[2..], type);
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[4..], 1); // IN
            BinaryPrimitives.WriteInt32BigEndian(fixedPart[6..], record.Ttl);
            BinaryPrimitives.WriteUInt16BigEndian(fixedPart[10..], (ushort)record.Data.Length);
            answer.Write(fixedPart);
            answer.Write(record.Data);
        }

        return answer.ToArray();
    }

    private static byte[] Srv(ushort priority, string target, int port)
    {
        using var data = new MemoryStream();
        Span<byte> numbers = stackalloc byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(numbers, priority);
        BinaryPrimitives.WriteUInt16BigEndian(numbers[2..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(numbers[4..], (ushort)port);
        data.Write(numbers);
        foreach (var label in target.TrimEnd('.').Split('.'))
        {
            data.WriteByte((byte)label.Length);
            data.Write(Encoding.ASCII.GetBytes(label));
        }

        data.WriteByte(0);
        return data.ToArray();
    }

    private sealed record Record(int Ttl, byte[] Data);
}
