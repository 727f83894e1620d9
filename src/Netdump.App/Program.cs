using Netdump.App.CommandLine;
using Netdump.App.Simulation;

var root = ServerCommand.Create();
root.Subcommands.Add(SimulateCommand.Create());
root.Subcommands.Add(PruneCommand.Create());
root.Subcommands.Add(ListCommand.Create());
root.Subcommands.Add(ShowCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(GroupsCommand.Create());
return await ServerCommand.InvokeAsync(root, args);
