using System.CommandLine;
using Netdump.App.Simulation;

var root = new RootCommand("netdump-server: collects FreeBSD netdump crash dumps over UDP");
root.Subcommands.Add(SimulateCommand.Create());
return root.Parse(args).Invoke();
