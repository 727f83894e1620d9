using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Netdump.Benchmarks.PacketPathBenchmarks).Assembly).Run(args);
