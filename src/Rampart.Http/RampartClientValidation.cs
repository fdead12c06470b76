using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Rampart.Http;

/// <summary>The name of a client that <c>AddRampart</c> was called for.</summary>
internal sealed record RampartClientName(string Name);

/// <summary>
/// <c>ValidateOnStart</c> for every Rampart client: the host does not start while a client's options are invalid, and the
/// <see cref="OptionsValidationException"/> lists every problem, each naming its key. (An <c>IValidateOptions</c> would
/// also run on every reload, inside the configuration's change callback, where a throw takes the process down; a reload
/// with invalid options is rejected by <see cref="RampartClientRegistry"/> instead, and the running cluster stays.)
/// </summary>
internal sealed class RampartClientValidation(IEnumerable<RampartClientName> clients, IOptionsMonitor<RampartClientOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var name in clients.Select(c => c.Name).Distinct(StringComparer.Ordinal))
        {
            var problems = RampartClientRegistry.Problems(options.Get(name), name);
            if (problems.Count > 0)
            {
                throw new OptionsValidationException(name, typeof(RampartClientOptions), problems);
            }
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
