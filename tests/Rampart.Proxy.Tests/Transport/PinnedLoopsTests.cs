using System.Text.Json;
using Rampart.Proxy.Tests.Infrastructure;
using Rampart.Proxy.Transport;

namespace Rampart.Proxy.Tests.Transport;

/// <summary>
/// <c>Rampart:Server:PinLoops</c> in a <c>rampart</c> process of its own (the loops are a process's, started once):
/// each epoll loop's thread may run on one CPU only, loop N on the process's Nth; without it, on all of the process's.
/// <c>/status</c> says which.
/// </summary>
public sealed class PinnedLoopsTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EachLoopRunsOnTheCpuOfItsIndex_OnlyWhenPinned(bool pin)
    {
        if (!EpollNative.IsSupported)
        {
            return; // the epoll transport is Linux x64's
        }

        await using var backend = await TestBackend.StartAsync("b0");
        var (port, admin) = (Loopback.FreePort(), Loopback.FreePort());
        await using var rampart = await RampartProcess.StartAsync($$"""
            { "Rampart": { "Listen": [ "http://127.0.0.1:{{port}}" ], "Admin": { "Listen": "http://127.0.0.1:{{admin}}" },
              "Server": { "Transport": "Epoll", "PinLoops": {{(pin ? "true" : "false")}} },
              "Routes": [ { "Id": "all", "Cluster": "web" } ],
              "Clusters": { "web": { "Forwarder": "Fast", "Destinations": { "a": { "Address": "{{backend.Address}}" } } } } } }
            """);
        using var client = new HttpClient { Timeout = Wait.Generous };

        Assert.Equal("ok from b0", await client.GetStringAsync($"http://127.0.0.1:{port}/get/1")); // the first connection starts the loops

        var pid = rampart.Process.Id;
        var allowed = CpusAllowed(pid, pid);
        var loops = Directory.GetDirectories($"/proc/{pid}/task")
            .Select(task => (Name: File.ReadAllText(Path.Combine(task, "comm")).Trim(), Tid: int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture)))
            .Where(thread => thread.Name.StartsWith("Rampart epoll ", StringComparison.Ordinal))
            .ToDictionary(thread => int.Parse(thread.Name["Rampart epoll ".Length..], System.Globalization.CultureInfo.InvariantCulture), thread => CpusAllowed(pid, thread.Tid));
        Assert.Equal(allowed.Count, loops.Count); // one loop per CPU it may use
        foreach (var (index, cpus) in loops)
        {
            Assert.Equal(pin ? [allowed[index]] : allowed, cpus);
        }

        using var status = JsonDocument.Parse(await client.GetStringAsync($"http://127.0.0.1:{admin}/status"));
        Assert.Equal(pin, status.RootElement.GetProperty("server").GetProperty("loopsPinned").GetBoolean());
    }

    // A thread's Cpus_allowed_list ("0-3,6"), as the CPUs' numbers.
    private static List<int> CpusAllowed(int pid, int tid)
    {
        var line = File.ReadLines($"/proc/{pid}/task/{tid}/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        return [.. line["Cpus_allowed_list:".Length..].Trim().Split(',').SelectMany(range =>
        {
            var ends = range.Split('-').Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return Enumerable.Range(ends[0], ends[^1] - ends[0] + 1);
        })];
    }
}
