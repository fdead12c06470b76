using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rampart.Clusters;
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
    /// Maps <c>GET /</c> (the live dashboard), <c>GET /status</c>, <c>GET /healthz</c>, <c>POST /config/reload</c> and <c>POST /destinations/{cluster}/{id}/isolate|reset|drain</c>
    /// for every Rampart cluster of the process: the proxy's (<c>AddRampart</c>) and the HttpClient handler's (<c>AddHttpClient(...).AddRampart</c>),
    /// either of which may be absent. When a token is set (<paramref name="token"/>, else <c>Rampart:Admin:Token</c>), every one of
    /// them needs <c>Authorization: Bearer TOKEN</c> (else 401); a state-changing request from another origin is refused (403) with or without a token.
    /// </summary>
    /// <param name="endpoints">Where to map them.</param>
    /// <param name="token">The bearer token every request must carry; the proxy's <c>Rampart:Admin:Token</c> when <see langword="null"/>.</param>
    /// <exception cref="InvalidOperationException">Neither the proxy nor a Rampart HttpClient is registered.</exception>
    public static IEndpointRouteBuilder MapRampartAdmin(this IEndpointRouteBuilder endpoints, string? token = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var proxy = services.GetService<Rampart.Proxy.RampartProxy>();
        var catalog = proxy?.Catalog ?? services.GetService<ClusterCatalog>()
            ?? throw new InvalidOperationException("MapRampartAdmin needs Rampart's clusters: call services.AddRampart(configuration) or AddHttpClient(...).AddRampart(...) first.");
        var time = services.GetRequiredService<TimeProvider>();
        var group = endpoints.MapGroup("").AddEndpointFilter(new AdminGuard(token ?? proxy?.Options.Admin.Token, hosts: null).Filter); // the application filters its own hosts

        group.MapGet("/", () => Results.Text(Dashboard.Value, "text/html; charset=utf-8"));
        group.MapGet("/status", () => Results.Json(StatusDocument.From(catalog, proxy, time)));
        group.MapGet("/healthz", async (IServiceProvider requestServices, CancellationToken cancellationToken) =>
        {
            // The application's health checks when it has them (the proxy registers Rampart's); else Rampart's clusters alone.
            var report = requestServices.GetService<HealthCheckService>() is { } health
                ? await health.CheckHealthAsync(cancellationToken).ConfigureAwait(false)
                : RampartHealthCheck.Report(catalog.Clusters);
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
            if (proxy is not { CanReloadConfiguration: true })
            {
                return Results.Conflict(new { error = proxy is null ? "no Rampart proxy runs here: an HttpClient's options reload with its configuration section" : "this proxy was built from options, not from a configuration: there is nothing to reload" });
            }

            var result = ReloadStatus.From(proxy.ReloadConfiguration())!;
            return Results.Json(result, statusCode: result.Outcome == nameof(RampartReloadOutcome.Rejected) ? StatusCodes.Status422UnprocessableEntity : StatusCodes.Status200OK);
        });
        group.MapPost("/destinations/{cluster}/{id}/{action}", (string cluster, string id, string action, string? scope) =>
        {
            id = id.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase); // a discovered destination's id (name/address), its slash escaped; routing leaves %2F as it is
            var owner = catalog.Clusters.FirstOrDefault(c => c.Id.Equals(cluster, StringComparison.OrdinalIgnoreCase));
            var destination = owner?.Destinations.FirstOrDefault(d => d.Id.Equals(id, StringComparison.OrdinalIgnoreCase));
            if (destination is null)
            {
                return Results.NotFound(new { error = $"no destination '{id}' in cluster '{cluster}'" });
            }

            if (!AdminActions.IsKnown(action))
            {
                return Results.NotFound(new { error = $"unknown action '{action}' ({AdminActions.Names})" });
            }

            switch (scope)
            {
                case null or "local":
                    AdminActions.Apply(destination, action, "admin");
                    break;
                case "fleet" when proxy?.Fleet is not { } fleet:
                    return Results.BadRequest(new { error = "scope=fleet needs a fleet: Rampart:Fleet:Redis is not set" });
                case "fleet":
                    // Every other live replica applies it on hearing it; this one at once. Nothing is applied when Redis cannot carry it.
                    if (!proxy.Fleet.Broadcast(owner!.Id, destination.Id, action))
                    {
                        return Results.Json(new { error = "the fleet is unreachable (Redis): nothing was applied; retry, or leave out scope=fleet to act on this replica alone" }, statusCode: StatusCodes.Status503ServiceUnavailable);
                    }

                    AdminActions.Apply(destination, action, "admin on " + proxy.Fleet.View.Self);
                    break;
                default:
                    return Results.BadRequest(new { error = $"scope must be local (default) or fleet (was {scope})" });
            }

            return Results.Json(DestinationStatus.From(destination));
        });
        return endpoints;
    }
}
