using Netdump.App.CommandLine;
using Netdump.App.Simulation;

var root = ServerCommand.Create();
root.Subcommands.Add(SimulateCommand.Create());
return await ServerCommand.InvokeAsync(root, args);
