using System.Diagnostics;
using System.Text;

namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>
/// The <c>rampart</c> executable as a process of its own, run on a config file: what a test needs to signal or kill
/// it, or to see what only a whole process shows (its threads). Killed when disposed if it still runs.
/// </summary>
public sealed class RampartProcess : IAsyncDisposable
{
    private readonly string _folder;
    private readonly StringBuilder _output = new();

    private RampartProcess(Process process, string folder)
    {
        Process = process;
        _folder = folder;
    }

    public Process Process { get; }

    /// <summary>What it wrote to standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>rampart --config</c> on <paramref name="config"/> (JSON); completes once every listener is bound.</summary>
    public static async Task<RampartProcess> StartAsync(string config)
    {
        var folder = Directory.CreateTempSubdirectory("rampart-process-").FullName;
        var path = Path.Combine(folder, "rampart.json");
        await File.WriteAllTextAsync(path, config);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Rampart.Host.dll"));
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(path);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var rampart = new RampartProcess(process, folder);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (rampart._output)
            {
                rampart._output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Application started", StringComparison.Ordinal))
            {
                started.TrySetResult(); // the host logs it once every listener is bound
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Exited += (_, _) => started.TrySetException(new InvalidOperationException("rampart exited at start: " + rampart.Output));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started.Task.WaitAsync(Wait.Generous);
        }
        catch
        {
            await rampart.DisposeAsync();
            throw;
        }

        return rampart;
    }

    /// <summary>SIGKILL: no goodbye.</summary>
    public void Kill() => Process.Kill();

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
        }

        await Process.WaitForExitAsync();
        Process.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
