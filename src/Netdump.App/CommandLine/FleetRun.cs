using System.CommandLine;
using Netdump.Actors.Storage;
using Netdump.App.Configuration;

namespace Netdump.App.CommandLine;

/// <summary>
/// How a fleet command runs and fails: it finds its server (or the disk), does its work, and
/// turns every problem into one line on stderr (<c>netdump-server: ...</c>) and exit status 1:
/// a bad conf or option, a server that cannot be reached, an error the server answered.
/// </summary>
internal static class FleetRun
{
    /// <summary>
    /// <c>list</c> and <c>show</c>: the server when there is one to ask; the dump directory when
    /// there is none (<c>--offline</c>, <c>http = off</c>) or when the conf's server does not
    /// answer (said on stderr). A server named with <c>--server</c> must answer.
    /// </summary>
    public static async Task<int> WithDumps(ParseResult parse, FleetOptions options, TimeProvider clock, Func<DumpSource, Task<int>> work)
    {
        var error = parse.InvocationConfiguration.Error;
        try
        {
            var target = options.Resolve(parse);
            if (target.Server is not null)
            {
                using var client = new FleetClient(target);
                try
                {
                    return await work(new DumpSource.Server(client, target.DumpDirectory));
                }
                catch (ServerUnreachableException e) when (!target.Explicit)
                {
                    error.WriteLine($"netdump-server: {e.Message}; reading {target.DumpDirectory} instead");
                }
            }

            return await work(new DumpSource.Disk(target.DumpDirectory, clock, error));
        }
        catch (Exception e) when (e is OperatorConfigException or ServerUnreachableException or ServerAnswerException)
        {
            return Fail(parse, e.Message);
        }
    }

    /// <summary><c>status</c> and <c>groups</c>: only the running server knows; none to ask, or none answering, is an error.</summary>
    public static async Task<int> WithServer(ParseResult parse, FleetOptions options, Func<FleetClient, Task<int>> work)
    {
        try
        {
            var target = options.Resolve(parse);
            if (target.Server is null)
            {
                return Fail(parse, "http = off in the settings: no server to ask (set http, or give --server URL)");
            }

            using var client = new FleetClient(target);
            return await work(client);
        }
        catch (Exception e) when (e is OperatorConfigException or ServerUnreachableException or ServerAnswerException)
        {
            return Fail(parse, e.Message);
        }
    }

    public static int Fail(ParseResult parse, string message)
    {
        // one line of text: a server's error may hold anything, escape sequences too
        parse.InvocationConfiguration.Error.WriteLine($"netdump-server: {DumpReport.OneLine(message)}");
        return ServerCommand.ExitError;
    }
}
