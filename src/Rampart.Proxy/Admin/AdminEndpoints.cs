using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Configuration;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Rampart's admin endpoints: status, health, actions.</summary>
public static class RampartAdminEndpointRouteBuilderExtensions
{
    private static readonly Lazy<string> Dashboard = new(() =>
    {
        using var stream = typeof(RampartAdminEndpointRouteBuilderExtensions).Assembly.GetManifestResourceStream("Rampart.Proxy.Admin.dashboard.html")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>
    /// Maps <c>GET /</c> (the live dashboard), <c>GET /status</c>, <c>GET /healthz</c>, <c>POST /config/reload</c> and <c>POST /destinations/{cluster}/{id}/isolate|reset|drain</c>.
    /// When <c>Rampart:Admin:Token</c> is set, every one of them needs <c>Authorization: Bearer TOKEN</c> (else 401); a
    /// state-changing request from another origin is refused (403) with or without a token.
    /// </summary>
    public static IEndpointRouteBuilder MapRampartAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var proxy = endpoints.ServiceProvider.GetRequiredService<Rampart.Proxy.RampartProxy>();
        var time = endpoints.ServiceProvider.GetRequiredService<TimeProvider>();
        var group = endpoints.MapGroup("").AddEndpointFilter(new AdminGuard(proxy.Options.Admin.Token, hosts: null).Filter); // the application filters its own hosts

        group.MapGet("/", () => Results.Text(Dashboard.Value, "text/html; charset=utf-8"));
        group.MapGet("/status", () => Results.Json(StatusDocument.From(proxy, time)));
        group.MapGet("/healthz", async (HealthCheckService health, CancellationToken cancellationToken) =>
        {
            var report = await health.CheckHealthAsync(cancellationToken).ConfigureAwait(false);
            return Results.Json(
                new
                {
                    status = report.Status.ToString(),
                    checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }),
                },
                statusCode: report.Status == HealthStatus.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        group.MapPost("/config/reload", () =>
        {
            if (!proxy.CanReloadConfiguration)
            {
                return Results.Conflict(new { error = "this proxy was built from options, not from a configuration: there is nothing to reload" });
            }

            var result = ReloadStatus.From(proxy.ReloadConfiguration())!;
            return Results.Json(result, statusCode: result.Outcome == nameof(RampartReloadOutcome.Rejected) ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status200OK);
        });
        group.MapPost("/destinations/{cluster}/{id}/{action}", (string cluster, string id, string action) =>
        {
            var destination = proxy.Clusters.FirstOrDefault(c => c.Id.Equals(cluster, StringComparison.OrdinalIgnoreCase))
                ?.Destinations.FirstOrDefault(d => d.Id.Equals(id, StringComparison.OrdinalIgnoreCase));
            if (destination is null)
            {
                return Results.NotFound(new { error = $"no destination '{id}' in cluster '{cluster}'" });
            }

            switch (action)
            {
                case "isolate":
                    destination.Breaker.Isolate("isolated by admin");
                    break;
                case "reset":
                    destination.Reset("reset by admin");
                    break;
                case "drain":
                    destination.Drain("drained by admin");
                    break;
                default:
                    return Results.NotFound(new { error = $"unknown action '{action}' (isolate, reset, drain)" });
            }

            return Results.Json(DestinationStatus.From(destination));
        });
        return endpoints;
    }
}
