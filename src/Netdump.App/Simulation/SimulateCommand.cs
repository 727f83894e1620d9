using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Netdump.Actors.Protocol;

namespace Netdump.App.Simulation;

/// <summary>
/// The <c>simulate</c> subcommand: one <see cref="SimulatedClient"/> dump against a server,
/// one line per phase. Exit 0 when the dump completed, 1 when it failed, 2 for a bad option
/// value (one line on stderr). Values are parsed here rather than by System.CommandLine so
/// that every bad value gets the same one-line error and exit code.
/// </summary>
public static partial class SimulateCommand
{
    public const int Completed = 0;
    public const int Failed = 1;
    public const int BadUsage = 2;

    public static Command Create()
    {
        var server = Text("--server", "server IPv4 address the HERALD goes to", "127.0.0.1");
        var port = Text("--port", "server port for the HERALD", "20023");
        var source = new Option<string?>("--source") { Description = "local IPv4 address to send from (default: any)" };
        var sourcePort = Text("--source-port", "local port to send from (real kernels use 20024; 0 = ephemeral)", "0");
        var size = Text("--size", "bytes of kernel memory, with optional K/M/G suffix (e.g. 64M)", "1M");
        var mtu = Text("--mtu", "interface MTU (payload per packet: MTU-52, at most 4096 on FreeBSD 12)", "1500");
        var hostname = Text("--hostname", "hostname in the kernel dump header", "simulated-host");
        var panic = Text("--panic", "panic string in the kernel dump header", "simulated panic");
        var path = Text("--path", "HERALD path (net.netdump.path), relative to the server's dump directory", "");
        var encrypt = new Option<bool>("--encrypt") { Description = "encrypt the dump (AES-256-CBC, ephemeral RSA-2048 key)" };
        var compress = Text("--compress", "compression: none, gzip or zstd", "none");
        var freeBsd12 = new Option<bool>("--freebsd12") { Description = "behave like FreeBSD 12 (4096-byte payloads, key after the KDH)" };
        var loss = Text("--loss", "probability (0..1) that a datagram or an ack is lost", "0");
        var duplicate = Text("--dup", "probability (0..1) that a datagram is sent twice", "0");
        var reorder = Text("--reorder", "probability (0..1) that a burst is sent shuffled", "0");
        var seed = Text("--seed", "seed for the data and the network faults", "1");

        var command = new Command("simulate", "behave like a crashing FreeBSD client dumping to a netdump server");
        foreach (var option in new Option[]
                 {
                     server, port, source, sourcePort, size, mtu, hostname, panic, path, encrypt, compress,
                     freeBsd12, loss, duplicate, reorder, seed,
                 })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = TextWriter.Synchronized(parseResult.InvocationConfiguration.Output);
            var errors = parseResult.InvocationConfiguration.Error;
            SimulatedClient client;
            try
            {
                var serverAddress = ParseIPv4("--server", parseResult.GetValue(server)!);
                var options = new SimulationOptions
                {
                    Server = new IPEndPoint(serverAddress, ParseInt("--port", parseResult.GetValue(port)!, 1, 65535)),
                    Source = parseResult.GetValue(source) is { } sourceText ? ParseIPv4("--source", sourceText) : IPAddress.Any,
                    SourcePort = ParseInt("--source-port", parseResult.GetValue(sourcePort)!, 0, 65535),
                    Size = ParseSize("--size", parseResult.GetValue(size)!),
                    Mtu = ParseInt("--mtu", parseResult.GetValue(mtu)!, 0, int.MaxValue),
                    Hostname = parseResult.GetValue(hostname)!,
                    Panic = parseResult.GetValue(panic)!,
                    Path = parseResult.GetValue(path)!,
                    Encrypt = parseResult.GetValue(encrypt),
                    Compress = ParseCompression(parseResult.GetValue(compress)!),
                    FreeBsd12 = parseResult.GetValue(freeBsd12),
                    Loss = ParseProbability("--loss", parseResult.GetValue(loss)!),
                    Duplicate = ParseProbability("--dup", parseResult.GetValue(duplicate)!),
                    Reorder = ParseProbability("--reorder", parseResult.GetValue(reorder)!),
                    Seed = ParseInt("--seed", parseResult.GetValue(seed)!, int.MinValue, int.MaxValue),
                };
                client = new SimulatedClient(options);
            }
            catch (ArgumentException e)
            {
                errors.WriteLine($"simulate: {e.Message}");
                return BadUsage;
            }

            var o = client.Options;
            output.WriteLine(
                $"simulating a FreeBSD {(o.FreeBsd12 ? "12" : "14")} client: {o.Size} bytes of memory, " +
                $"{client.Header.DumpLength} bytes to dump ({Describe(o.Compress)}{(o.Encrypt ? ", encrypted" : "")}), " +
                $"{o.MaxPayload}-byte payloads, to {o.Server}");
            client.Progress = output.WriteLine;
            SimulationResult result;
            try
            {
                result = await client.RunAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                errors.WriteLine("simulate: cancelled");
                return Failed;
            }

            if (!result.Success)
            {
                errors.WriteLine($"simulate: dump failed: {result.Error}");
                output.WriteLine(Summary(result));
                return Failed;
            }

            output.WriteLine($"dump complete: {Summary(result)}");
            return Completed;
        });
        return command;
    }

    /// <summary>Parses a byte count with an optional binary suffix: 4096, 64K, 64M, 2G, 1T, 64MiB.</summary>
    internal static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var match = SizePattern().Match(text);
        if (!match.Success ||
            !long.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var shift = match.Groups[2].Success
            ? 10 * ("KMGT".IndexOf(char.ToUpperInvariant(match.Groups[2].Value[0])) + 1)
            : 0;
        if (number > long.MaxValue >> shift)
        {
            return false;
        }

        bytes = number << shift;
        return true;
    }

    [GeneratedRegex(@"^\s*(\d+)\s*(?:([KMGT])(?:i?B)?|B)?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex SizePattern();

    private static Option<string> Text(string name, string description, string defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    private static IPAddress ParseIPv4(string option, string text) =>
        IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetwork
            ? address
            : throw new ArgumentException($"{option} \"{text}\" is not an IPv4 address");

    private static int ParseInt(string option, string text, int minimum, int maximum) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw new ArgumentException($"{option} \"{text}\" is not an integer in {minimum}..{maximum}");

    private static long ParseSize(string option, string text) =>
        TryParseSize(text, out var bytes)
            ? bytes
            : throw new ArgumentException($"{option} \"{text}\" is not a size (bytes, or with a K/M/G/T suffix)");

    private static double ParseProbability(string option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1
            ? value
            : throw new ArgumentException($"{option} \"{text}\" is not a probability in 0..1");

    private static DumpCompression ParseCompression(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" or "" => DumpCompression.None,
        "gzip" or "gz" => DumpCompression.Gzip,
        "zstd" or "zst" => DumpCompression.Zstd,
        _ => throw new ArgumentException($"--compress \"{text}\" is not none, gzip or zstd"),
    };

    private static string Describe(DumpCompression compression) =>
        compression == DumpCompression.None ? "uncompressed" : compression.ToString().ToLowerInvariant();

    private static string Summary(SimulationResult result) =>
        $"{result.PacketsSent} packets sent, {result.Retransmits} retransmits, {result.AcksReceived} acks, " +
        $"{result.CoreBytes} core bytes acked, session port {result.SessionPort}, {result.Elapsed.TotalSeconds:F2} s";
}
