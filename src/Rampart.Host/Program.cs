using Rampart.Host;

try
{
    return await RampartCommand.RunAsync(args, Console.Out, Console.Error);
}
#pragma warning disable CA1031 // the last line of defence: no input ends the process with an unhandled exception (exit 134)
catch (Exception ex)
#pragma warning restore CA1031
{
    await Console.Error.WriteLineAsync($"rampart: stopped on an unexpected error: {ex.GetType().Name}: {ex.Message}");
    return RampartCommand.Failed;
}
