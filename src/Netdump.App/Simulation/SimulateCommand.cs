using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Netdump.Actors.Configuration;
using Netdump.App.CommandLine;
using Netdump.Actors.Protocol;

namespace Netdump.App.Simulation;

/// <summary>
/// The <c>simulate</c> subcommand: one <see cref="SimulatedClient"/> dump (or with
/// <c>--dialect linux</c> one <see cref="LinuxSimulatedClient"/> dump) against a server, one
/// line per phase. Exit 0 when the dump completed; 1 when it failed or an option value is bad,
/// with one line on stderr (<c>netdump-server: simulate: ...</c>), as every command of the
/// program reports an error. Values are parsed here rather than by System.CommandLine so that
/// every bad value gets the same one-line error.
/// </summary>
public static partial class SimulateCommand
{
    public const int Completed = 0;
    public const int Failed = ServerCommand.ExitError;

    /// <summary>What starts each of the command's error lines on stderr.</summary>
    internal const string ErrorPrefix = "netdump-server: simulate: ";

    private enum Dialect
    {
        FreeBsd,
        Linux,
    }

    public static Command Create()
    {
        var dialect = Text("--dialect", "the client to behave like: freebsd (debugnet) or linux (RHEL4 netdump module)", "freebsd");
        var server = Text("--server", "server IPv4 address the dump goes to", "127.0.0.1");
        var port = new Option<string?>("--port") { Description = "server port (default: 20023, the HERALD port; 6666 for linux)" };
        var source = new Option<string?>("--source") { Description = "local IPv4 address to send from (default: any)" };
        var sourcePort = Text("--source-port", "local port to send from (real kernels use 20024, or 6666 for linux; 0 = ephemeral)", "0");
        var loss = Text("--loss", "probability (0..1) that a datagram is lost, either way", "0");
        var duplicate = Text("--dup", "probability (0..1) that a datagram is sent twice", "0");
        var reorder = Text("--reorder", "probability (0..1) that a burst is sent shuffled", "0");
        var seed = Text("--seed", "seed for the data and the network faults", "1");

        var size = Text("--size", "freebsd: bytes of kernel memory, with optional K/M/G suffix (e.g. 64M)", "1M");
        var mtu = Text("--mtu", "freebsd: interface MTU (payload per packet: MTU-52, at most 4096 on FreeBSD 12)", "1500");
        var hostname = Text("--hostname", "freebsd: hostname in the kernel dump header", "simulated-host");
        var panic = Text("--panic", "freebsd: panic string in the kernel dump header", "simulated panic");
        var path = Text("--path", "freebsd: HERALD path (net.netdump.path), relative to the server's dump directory", "");
        var encrypt = new Option<bool>("--encrypt") { Description = "freebsd: encrypt the dump (EKCD: --cipher, its key wrapped with --public-key or an ephemeral RSA-2048 key)" };
        var cipher = Text("--cipher", "freebsd: the cipher of --encrypt: aes256-cbc or chacha20 (dumpon -C)", "aes256-cbc");
        var publicKey = new Option<string?>("--public-key") { Description = "freebsd: PEM file of the RSA public key that wraps the dump's key, as dumpon -k FILE" };
        var compress = Text("--compress", "freebsd: compression: none, gzip or zstd", "none");
        var freeBsd12 = new Option<bool>("--freebsd12") { Description = "freebsd: behave like FreeBSD 12 (4096-byte payloads, key after the KDH)" };
        Option[] freeBsdOnly = [size, mtu, hostname, panic, path, encrypt, cipher, publicKey, compress, freeBsd12];
        var linux = new LinuxSimulateCommand();

        var command = new Command(
            "simulate",
            "behave like a crashing FreeBSD client dumping to a netdump server, or with --dialect linux like a RHEL4 one\n" +
            "linux: simulate --dialect linux [--arch x86_64|i386] [--memory 8M] [--reserved 0x9f-0x100] [--console TEXT]... [--magic HEX]");
        foreach (var option in new Option[] { dialect, server, port, source, sourcePort, loss, duplicate, reorder, seed }
                     .Concat(freeBsdOnly).Concat(linux.Options))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = TextWriter.Synchronized(parseResult.InvocationConfiguration.Output);
            var errors = parseResult.InvocationConfiguration.Error;
            Func<Task<int>> run;
            try
            {
                var chosen = ParseDialect(parseResult.GetValue(dialect)!);
                var isLinux = chosen == Dialect.Linux;
                RefuseGiven(parseResult, isLinux ? freeBsdOnly : linux.Options, chosen);
                var target = new SimulationTarget(
                    new IPEndPoint(
                        ParseIPv4("--server", parseResult.GetValue(server)!),
                        ParseInt("--port", parseResult.GetValue(port) ?? (isLinux ? "6666" : "20023"), 1, 65535)),
                    parseResult.GetValue(source) is { } sourceText ? ParseIPv4("--source", sourceText) : IPAddress.Any,
                    ParseInt("--source-port", parseResult.GetValue(sourcePort)!, 0, 65535),
                    ParseProbability("--loss", parseResult.GetValue(loss)!),
                    ParseProbability("--dup", parseResult.GetValue(duplicate)!),
                    ParseProbability("--reorder", parseResult.GetValue(reorder)!),
                    ParseInt("--seed", parseResult.GetValue(seed)!, int.MinValue, int.MaxValue));
                if (isLinux)
                {
                    var client = linux.CreateClient(parseResult, target);
                    run = () => LinuxSimulateCommand.RunAsync(client, output, errors, cancellationToken);
                }
                else
                {
                    var client = new SimulatedClient(new SimulationOptions
                    {
                        Server = target.Server,
                        Source = target.Source,
                        SourcePort = target.SourcePort,
                        Size = ParseSize("--size", parseResult.GetValue(size)!),
                        Mtu = ParseInt("--mtu", parseResult.GetValue(mtu)!, 0, int.MaxValue),
                        Hostname = parseResult.GetValue(hostname)!,
                        Panic = parseResult.GetValue(panic)!,
                        Path = parseResult.GetValue(path)!,
                        Encrypt = parseResult.GetValue(encrypt),
                        Cipher = ParseCipher(parseResult.GetValue(cipher)!),
                        PublicKey = parseResult.GetValue(publicKey),
                        Compress = ParseCompression(parseResult.GetValue(compress)!),
                        FreeBsd12 = parseResult.GetValue(freeBsd12),
                        Loss = target.Loss,
                        Duplicate = target.Duplicate,
                        Reorder = target.Reorder,
                        Seed = target.Seed,
                    });
                    run = () => RunAsync(client, output, errors, cancellationToken);
                }
            }
            catch (ArgumentException e)
            {
                errors.WriteLine($"{ErrorPrefix}{e.Message}");
                return Failed;
            }

            return await run();
        });
        return command;
    }

    private static async Task<int> RunAsync(SimulatedClient client, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var o = client.Options;
        output.WriteLine(
            $"simulating a FreeBSD {(o.FreeBsd12 ? "12" : "14")} client: {o.Size} bytes of memory, " +
            $"{client.Header.DumpLength} bytes to dump ({Describe(o.Compress)}{(o.Encrypt ? $", encrypted with {(o.Cipher == KeyEncryption.ChaCha20 ? "chacha20" : "aes256-cbc")}" : "")}), " +
            $"{o.MaxPayload}-byte payloads, to {o.Server}");
        client.Progress = output.WriteLine;
        return await Conclude(client.RunAsync(cancellationToken), r => r.Success ? null : r.Error, Summary, "dump complete", output, errors);
    }

    /// <summary>Awaits a simulated client's run and turns how it went into the closing lines and the exit code.</summary>
    internal static async Task<int> Conclude<T>(
        Task<T> run, Func<T, string?> failure, Func<T, string> summary, string completed, TextWriter output, TextWriter errors)
    {
        T result;
        try
        {
            result = await run;
        }
        catch (OperationCanceledException)
        {
            errors.WriteLine($"{ErrorPrefix}cancelled");
            return Failed;
        }

        if (failure(result) is { } error)
        {
            errors.WriteLine($"{ErrorPrefix}dump failed: {error}");
            output.WriteLine(summary(result));
            return Failed;
        }

        output.WriteLine($"{completed}: {summary(result)}");
        return Completed;
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

    internal static Option<string> Text(string name, string description, string defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    internal static IPAddress ParseIPv4(string option, string text) =>
        DottedQuad.TryParse(text, out var address)
            ? address
            : throw new ArgumentException($"{option} \"{text}\" is not an IPv4 address ({DottedQuad.Form})");

    internal static int ParseInt(string option, string text, int minimum, int maximum) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum
            ? value
            : throw new ArgumentException($"{option} \"{text}\" is not an integer in {minimum}..{maximum}");

    internal static long ParseSize(string option, string text) =>
        TryParseSize(text, out var bytes)
            ? bytes
            : throw new ArgumentException($"{option} \"{text}\" is not a size (bytes, or with a K/M/G/T suffix)");

    internal static double ParseProbability(string option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 1
            ? value
            : throw new ArgumentException($"{option} \"{text}\" is not a probability in 0..1");

    private static Dialect ParseDialect(string text) => text.Trim().ToLowerInvariant() switch
    {
        "freebsd" => Dialect.FreeBsd,
        "linux" => Dialect.Linux,
        _ => throw new ArgumentException($"--dialect \"{text}\" is not freebsd or linux"),
    };

    /// <summary>An option of the other dialect given on the command line is a mistake, not something to ignore.</summary>
    private static void RefuseGiven(ParseResult parseResult, IEnumerable<Option> options, Dialect dialect)
    {
        foreach (var option in options)
        {
            if (parseResult.GetResult(option) is { Implicit: false })
            {
                throw new ArgumentException($"{option.Name} does not apply to the {dialect.ToString().ToLowerInvariant()} dialect");
            }
        }
    }

    private static DumpCompression ParseCompression(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" or "" => DumpCompression.None,
        "gzip" or "gz" => DumpCompression.Gzip,
        "zstd" or "zst" => DumpCompression.Zstd,
        _ => throw new ArgumentException($"--compress \"{text}\" is not none, gzip or zstd"),
    };

    private static KeyEncryption ParseCipher(string text) => text.Trim().ToLowerInvariant() switch
    {
        "aes256-cbc" or "aes-256-cbc" or "aes" => KeyEncryption.Aes256Cbc,
        "chacha20" or "chacha" => KeyEncryption.ChaCha20,
        _ => throw new ArgumentException($"--cipher \"{text}\" is not aes256-cbc or chacha20"),
    };

    private static string Describe(DumpCompression compression) =>
        compression == DumpCompression.None ? "uncompressed" : compression.ToString().ToLowerInvariant();

    private static string Summary(SimulationResult result) =>
        $"{result.PacketsSent} packets sent, {result.Retransmits} retransmits, {result.AcksReceived} acks, " +
        $"{result.CoreBytes} core bytes acked, session port {result.SessionPort}, {result.Elapsed.TotalSeconds:F2} s";
}

/// <summary>The command-line values both dialects share.</summary>
internal sealed record SimulationTarget(
    IPEndPoint Server, IPAddress Source, int SourcePort, double Loss, double Duplicate, double Reorder, int Seed);
