using BenchmarkDotNet.Running;

// bench/storage_care.sh times the server's compressor on a file: `compress FILE [--nice]`
if (args is ["compress", ..])
{
    return Netdump.Benchmarks.CompressionRun.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(Netdump.Benchmarks.PacketPathBenchmarks).Assembly).Run(args);
return 0;
