using Microsoft.Extensions.Hosting;
using Rampart.Health;

namespace Rampart.Http;

/// <summary>Runs the shared prober for the Rampart clients (once, however many clients there are).</summary>
internal sealed class RampartProberService(ActiveHealthProber prober) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => prober.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => prober.StopAsync(cancellationToken);
}
