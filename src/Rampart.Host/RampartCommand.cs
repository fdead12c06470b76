using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Rampart.Host.Demo;
using Rampart.Proxy;
using Rampart.Proxy.Admin;
using Rampart.Proxy.Configuration;

namespace Rampart.Host;

/// <summary>The command line: <c>rampart [--config FILE]</c>, <c>rampart validate --config FILE</c>.</summary>
internal static partial class RampartCommand
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidConfiguration = 2;

    private const string Usage = """
        Usage:
          rampart --config FILE             run the proxy configured by FILE (JSON)
          rampart validate --config FILE    check FILE, list every problem, exit 0 (valid) or 2 (invalid)
          rampart demo [active|passive|flap]     the built-in demonstration: backends fail, clients see no error
                 [--duration SECONDS] [--rate REQUESTS_PER_SECOND] [--no-live]

        Settings from FILE can be overridden by environment variables (Rampart__Listen__0=...)
        and by arguments after the options (--Rampart:Listen:0=http://127.0.0.1:8081).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var rest = new List<string>(args);
        var verb = rest.Count > 0 && !rest[0].StartsWith('-') ? Take(rest, 0) : "run";
        if (rest.Remove("--help") || rest.Remove("-h") || verb == "help")
        {
            await output.WriteLineAsync(Usage);
            return Ok;
        }

        if (verb == "demo")
        {
            return await DemoCommand.RunAsync(rest, output, error);
        }

        var at = rest.IndexOf("--config");
        var path = at >= 0 && at + 1 < rest.Count ? rest[at + 1] : null;
        if (at >= 0)
        {
            rest.RemoveRange(at, Math.Min(2, rest.Count - at));
        }

        if (verb is not ("run" or "validate") || path is null)
        {
            await error.WriteLineAsync(verb is "run" or "validate" ? "rampart: --config FILE is required." : $"rampart: unknown command '{verb}'.");
            await error.WriteLineAsync(Usage);
            return InvalidConfiguration;
        }

        // The slim builder: what a proxy needs, nothing it does not (measured: the full builder costs throughput).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [.. rest] });
        if (!TryAddConfigFile(builder.Configuration, path, rest, out var problem))
        {
            await error.WriteLineAsync(problem);
            return InvalidConfiguration;
        }

        var options = RampartConfiguration.Load(builder.Configuration, out var errors);
        if (errors.Count > 0)
        {
            await error.WriteLineAsync($"rampart: {path} is invalid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):");
            foreach (var e in errors)
            {
                await error.WriteLineAsync("  " + e);
            }

            return InvalidConfiguration;
        }

        if (verb == "validate")
        {
            var destinations = options.Clusters.Values.Sum(c => c.Destinations.Count);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{path} is valid: {options.Routes.Count} route(s), {options.Clusters.Count} cluster(s), {destinations} destination(s)."));
            return Ok;
        }

        builder.WebHost.UseKestrelHttpsConfiguration();
        if (options.Server.InlineScheduling)
        {
            builder.WebHost.UseSockets(s => s.UnsafePreferInlineScheduling = true);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        // Transitions are logged; requests are not (high-volume facts are metrics). Settings in FILE may change this.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        // Not even a per-request scope: while this category is enabled at any level, ASP.NET Core's hosting
        // opens a log scope and starts an Activity for every request (measured: bench/README.md).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Services.AddSingleton(options); // loaded and checked above: AddRampart uses these rather than reading the file again
        builder.Services.AddRampart(builder.Configuration);
        builder.Services.AddRampartServer(); // listeners, limits, no Server header
        // SIGTERM/Ctrl+C: stop accepting, let in-flight requests finish up to this, stop probes, exit 0.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        await using var app = builder.Build();
        app.UseRampartDirectPath(); // one catch-all route: no routing work per request
        app.UseRouting();
        app.MapRampart();
        // What only binding can tell (a port in use, an address not on this machine): a clear line and exit code 1.
        RampartAdminServer? admin = null;
        try
        {
            await app.StartAsync();
            if (!string.IsNullOrEmpty(options.Admin.Listen))
            {
                admin = await RampartAdminServer.StartAsync(
                    app.Services.GetRequiredService<RampartProxy>(),
                    app.Services.GetRequiredService<TimeProvider>(),
                    meterProvider: app.Services.GetService<MeterProvider>());
                HostLog.AdminListening(app.Logger, admin.Address);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException or RampartConfigurationException)
        {
            await error.WriteLineAsync($"rampart: could not start: {Innermost(ex).Message}");
            return Failed;
        }

        await using var adminServer = admin;
        await app.WaitForShutdownAsync();
        return Ok;
    }

    private static bool TryAddConfigFile(ConfigurationManager configuration, string path, List<string> overrides, out string problem)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            problem = $"rampart: config file {path} does not exist.";
            return false;
        }

        try
        {
            // Hot reload: a change to the file applies at once; an invalid one is rejected and the running configuration stays.
            configuration.AddJsonFile(full, optional: false, reloadOnChange: true);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException)
        {
            problem = $"rampart: config file {path}: {FileErrors.Describe(ex)}";
            return false;
        }

        // The file's settings, then the environment's, then the command line's: later ones win.
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine([.. overrides]);
        problem = "";
        return true;
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null && ex is not IOException)
        {
            ex = ex.InnerException;
        }

        return ex;
    }

    private static string Take(List<string> list, int index)
    {
        var value = list[index];
        list.RemoveAt(index);
        return value;
    }

    private static partial class HostLog
    {
        // Event ids 5000-5099: admin listener.
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Admin endpoints on {Address} (status, metrics, healthz)")]
        public static partial void AdminListening(ILogger logger, Uri address);
    }
}
