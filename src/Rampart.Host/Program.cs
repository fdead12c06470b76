using Rampart.Host;

return await RampartCommand.RunAsync(args, Console.Out, Console.Error);
