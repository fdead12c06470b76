using System.Globalization;

namespace Rampart.Host.Demo;

/// <summary><c>rampart demo [active|passive|flap] [--duration SECONDS] [--rate N] [--no-live]</c>.</summary>
internal static class DemoCommand
{
    public static async Task<int> RunAsync(List<string> args, TextWriter output, TextWriter error)
    {
        var name = args.Count > 0 && !args[0].StartsWith('-') ? args[0] : "full";
        var story = DemoStory.Find(name);
        var live = !args.Contains("--no-live") && !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);
        if (story is null
            || !TryNumber(args, "--duration", story.DefaultDuration.TotalSeconds, 5, 3600, out var seconds)
            || !TryNumber(args, "--rate", 50, 1, 2000, out var rate))
        {
            await error.WriteLineAsync("rampart demo: usage: rampart demo [active|passive|flap] [--duration SECONDS (5-3600)] [--rate N (1-2000)] [--no-live]");
            return RampartCommand.InvalidConfiguration;
        }

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // finish the run cleanly and print the summary
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            await using var run = new DemoRun(story, TimeSpan.FromSeconds(seconds), (int)rate);
            await run.StartAsync();
            await output.WriteLineAsync($"Rampart demo ({story.Name}): {story.Title}.");
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Proxy on {run.ProxyAddress}, backends {string.Join(", ", run.Backends.Select(b => $"{b.Name} {b.Address}"))}; {rate} requests/s for {seconds} s. Ctrl+C stops."));
            await output.WriteLineAsync($"Admin endpoints while it runs: dashboard {run.AdminAddress} , {run.AdminAddress}status, {run.AdminAddress}metrics, {run.AdminAddress}healthz");
            var playing = run.PlayAsync(stop.Token);
            if (live)
            {
                await DemoView.ShowLiveAsync(run, playing);
            }
            else
            {
                await DemoView.ShowPlainAsync(run, playing, output);
            }

            await DemoView.WriteSummaryAsync(run, output);
            return DemoView.Succeeded(run) || stop.IsCancellationRequested ? RampartCommand.Ok : RampartCommand.Failed;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static bool TryNumber(List<string> args, string option, double fallback, double min, double max, out double value)
    {
        value = fallback;
        var at = args.IndexOf(option);
        if (at < 0)
        {
            return true;
        }

        return at + 1 < args.Count
            && double.TryParse(args[at + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && value >= min && value <= max;
    }
}
