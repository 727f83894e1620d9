using System.Diagnostics;
using System.Globalization;
using Netdump.Actors.Native;
using Netdump.Actors.Storage;

namespace Netdump.Benchmarks;

/// <summary>
/// <c>compress FILE [--nice]</c>: the server's compressor (<see cref="ZstdCore"/>, libzstd with
/// one worker per core) on one file, timed, for bench/storage_care.sh to set beside
/// <c>zstd -3 -T0</c> on the same file (which does not fsync: the fsync the server adds is
/// timed apart); then the check the server makes (decompressed and hashed). Prints one JSON line. <c>--nice</c> runs at nice 19, the lowest (the server's lane runs at <c>BackgroundLane.Nice</c>, 10).
/// </summary>
internal static class CompressionRun
{
    public static int Run(string[] args)
    {
        var file = args[0];
        if (args.Contains("--nice"))
        {
            ThreadNice.SetCurrent(19); // the lowest
        }

        var output = file + ".ours.zst";
        File.Delete(output);
        var bytes = new FileInfo(file).Length;
        var started = Stopwatch.GetTimestamp();
        var stored = ZstdCore.Compress(file, output, Environment.ProcessorCount, CancellationToken.None);
        var compress = Stopwatch.GetElapsedTime(started);
        started = Stopwatch.GetTimestamp();
        ZstdCore.Fsync(output);
        var fsync = Stopwatch.GetElapsedTime(started);
        started = Stopwatch.GetTimestamp();
        var (content, _) = ZstdCore.HashThrough(output, CancellationToken.None);
        var verify = Stopwatch.GetElapsedTime(started);
        File.Delete(output);
        if (content != CoreChecksum.Compute(file, CancellationToken.None))
        {
            Console.Error.WriteLine("compress: the copy does not read back");
            return 1;
        }

        FormattableString line = $"{{\"bytes\": {bytes}, \"stored\": {stored}, \"compress_s\": {compress.TotalSeconds:F3}, \"fsync_s\": {fsync.TotalSeconds:F3}, \"verify_s\": {verify.TotalSeconds:F3}, \"compress_mib_s\": {bytes / 1048576.0 / compress.TotalSeconds:F1}, \"verify_mib_s\": {bytes / 1048576.0 / verify.TotalSeconds:F1}}}";
        Console.WriteLine(line.ToString(CultureInfo.InvariantCulture));
        return 0;
    }
}
