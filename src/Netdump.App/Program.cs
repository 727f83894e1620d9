using Netdump.App.CommandLine;
using Netdump.App.Simulation;

var root = ServerCommand.Create();
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(PruneCommand.Create());
return await ServerCommand.InvokeAsync(root, args);
