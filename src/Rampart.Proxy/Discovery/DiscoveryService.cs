using Microsoft.Extensions.Hosting;

namespace Rampart.Proxy.Discovery;

/// <summary>Runs the proxy's DNS discovery; the host starts serving once every discovered name had its first resolution (resolved or failed).</summary>
internal sealed class DiscoveryService(RampartProxy proxy) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _run = Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _run = Task.Run(() => proxy.Discovery.RunAsync(_stopping.Token), CancellationToken.None);
        await proxy.Discovery.FirstPass.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopped
        }
    }

    public void Dispose() => _stopping.Dispose();
}
