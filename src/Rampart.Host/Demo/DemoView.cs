using System.Globalization;
using Spectre.Console;

namespace Rampart.Host.Demo;

/// <summary>Shows a demo run: a live table in a terminal, or plain lines for logs and CI; then the summary.</summary>
internal static class DemoView
{
    public static async Task ShowLiveAsync(DemoRun run, Task playing)
    {
        await AnsiConsole.Live(Render(run)).AutoClear(false).StartAsync(async context =>
        {
            while (!playing.IsCompleted)
            {
                context.UpdateTarget(Render(run));
                await Task.WhenAny(playing, Task.Delay(250));
            }

            context.UpdateTarget(Render(run));
        });
        await playing;
    }

    public static async Task ShowPlainAsync(DemoRun run, Task playing, TextWriter output)
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        run.Step += (at, text) => lines.Enqueue($"{Stamp(at)} >>> {text}");
        run.Transition += (at, d, t) => lines.Enqueue($"{Stamp(at)}     {d.Id}: {t.Signal} {t.From} -> {t.To}: {t.Reason}");
        var nextProgress = TimeSpan.FromSeconds(5);
        while (!playing.IsCompleted)
        {
            await Task.WhenAny(playing, Task.Delay(200));
            Flush();
            if (run.Elapsed >= nextProgress)
            {
                nextProgress += TimeSpan.FromSeconds(5);
                var served = string.Join(", ", run.Backends.Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Name} {b.Served}")));
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{Stamp(run.Elapsed)}     client: {run.Sent} sent, {run.Succeeded} ok, {run.Failed} errors; served: {served}"));
            }
        }

        await playing;
        Flush();

        void Flush()
        {
            while (lines.TryDequeue(out var line))
            {
                output.WriteLine(line);
            }
        }
    }

    public static async Task WriteSummaryAsync(DemoRun run, TextWriter output)
    {
        var w = output;
        await w.WriteLineAsync();
        await w.WriteLineAsync($"Summary of the {run.Story.Name} demo ({run.Elapsed.TotalSeconds:0.0} s):");
        await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"  requests sent: {run.Sent}, succeeded: {run.Succeeded}, client-visible errors: {run.Failed}"));
        foreach (var sample in run.ErrorSamples)
        {
            await w.WriteLineAsync("    error: " + sample);
        }

        foreach (var outcome in run.Outcomes)
        {
            var what = outcome.Step.Fault == DemoFault.None ? "traffic back after" : "detected after";
            var result = outcome.Delay is { } delay
                ? string.Create(CultureInfo.InvariantCulture, $"{what} {delay.TotalSeconds:0.0} s ({outcome.How})")
                : outcome.Step.Fault == DemoFault.None ? "traffic NOT back" : "NOT detected";
            await w.WriteLineAsync($"  {outcome.Step.Text,-42} {result}");
        }

        await w.WriteLineAsync(Succeeded(run)
            ? "  Every failure was detected and every healed backend got its traffic back, with 0 client-visible errors."
            : "  NOT everything went as it should: see above.");
    }

    public static bool Succeeded(DemoRun run) =>
        run.Failed == 0 && run.Outcomes.Count == run.Story.Steps.Count(s => s.Measured) && run.Outcomes.All(o => o.Delay is not null);

    private static string Stamp(TimeSpan at) => string.Create(CultureInfo.InvariantCulture, $"[{at.TotalSeconds,5:0.0}s]");

    private static Table Render(DemoRun run)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]Rampart demo[/]: {Markup.Escape(run.Story.Title)}")
            .Caption(string.Create(CultureInfo.InvariantCulture,
                $"{run.Elapsed.TotalSeconds:0}/{run.Duration.TotalSeconds:0} s   [bold]{Markup.Escape(run.CurrentStep)}[/]\n"
                + $"client: {run.Sent} sent, [green]{run.Succeeded} ok[/], {(run.Failed == 0 ? "[green]0 errors[/]" : $"[red]{run.Failed} errors[/]")}   proxy {run.ProxyAddress}"));
        table.AddColumns("backend", "doing", "active health", "passive", "circuit", "available", "served");
        var destinations = run.Destinations.ToDictionary(d => d.Id);
        foreach (var backend in run.Backends)
        {
            if (!destinations.TryGetValue(backend.Name, out var d))
            {
                continue;
            }

            table.AddRow(
                backend.Name,
                backend.Fault switch
                {
                    DemoFault.None => "[green]ok[/]",
                    DemoFault.Killed => "[red]killed[/]",
                    DemoFault.Failing => "[red]answers 500[/]",
                    _ => "[red]hangs[/]",
                },
                Color(d.ActiveHealth.ToString()),
                Color(d.PassiveHealth.ToString()),
                Color(d.Breaker.State.ToString()),
                d.IsAvailable ? "[green]yes[/]" : "[red]no[/]",
                backend.Served.ToString(CultureInfo.InvariantCulture));
        }

        return table;
    }

    private static string Color(string state) => state switch
    {
        "Healthy" or "Closed" => $"[green]{state}[/]",
        "Unhealthy" or "Ejected" or "Open" or "Isolated" => $"[red]{state}[/]",
        _ => $"[yellow]{state}[/]",
    };
}
