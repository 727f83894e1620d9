using System.CommandLine;
using Netdump.Actors.Configuration;
using Netdump.Actors.Storage;
using Netdump.App.Configuration;

namespace Netdump.App.CommandLine;

/// <summary>
/// <c>netdump-server prune [--dry-run]</c>: one retention pass now, with the server's settings
/// (netdump.conf, <c>--config</c>, <c>--dumpdir</c>), the same rules as the server's own passes
/// (never a receiving dump, never one younger than an hour). One line per dump on stdout:
/// <c>would remove</c> with <c>--dry-run</c> (nothing is touched), <c>removed</c> otherwise (and
/// a line in retention.log); one line saying so when nothing goes. Safe beside a running server. Exit 0; 1 with one line on stderr
/// for a bad configuration or a dump that could not be removed.
/// </summary>
public static class PruneCommand
{
    public static Command Create() => Create(TimeProvider.System);

    /// <summary>The command with its clock (in-process callers may give their own).</summary>
    private static Command Create(TimeProvider clock)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "print what would be removed and why; remove nothing" };
        var config = new Option<string?>(ServerOptions.ConfigOption) { HelpName = "PATH", Description = $"the key=value settings file (default {OperatorConfig.DefaultConfigPath}; may be missing)" };
        var dumpDir = new Option<string?>(ServerOptions.OptionOf(ConfigKeys.DumpDir)) { HelpName = "PATH", Description = "where dumps are (default: dumpdir of the settings)" };
        var command = new Command("prune", "remove the dumps the retention keys (keep_per_host, max_age, max_total) no longer keep");
        command.Options.Add(dryRun);
        command.Options.Add(config);
        command.Options.Add(dumpDir);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            OperatorConfig loaded;
            try
            {
                var path = parse.GetValue(config);
                loaded = OperatorConfig.Load(
                    new Dictionary<string, object?>(StringComparer.Ordinal) { [ConfigKeys.DumpDir.Name] = parse.GetValue(dumpDir) },
                    path ?? OperatorConfig.DefaultConfigPath, explicitPath: path is not null, ServerOptions.OptionOfKey);
                if (!Directory.Exists(loaded.Settings.DumpDirectory))
                {
                    throw new OperatorConfigException($"dumpdir {loaded.Settings.DumpDirectory} does not exist");
                }
            }
            catch (OperatorConfigException e)
            {
                return ServerCommand.Fail(e.Message);
            }

            var settings = loaded.Settings;
            if (!settings.Retention.IsActive)
            {
                output.WriteLine("no retention key is set (keep_per_host, max_age, max_total): every dump stays");
                return ServerCommand.ExitOk;
            }

            var dry = parse.GetValue(dryRun);
            var (plan, outcomes, problems, log) = RetentionRun.Prune(settings.DumpDirectory, settings.Retention, clock.GetUtcNow(), dry);
            foreach (var problem in problems)
            {
                parse.InvocationConfiguration.Error.WriteLine($"netdump-server: prune: {problem}");
            }

            var failed = 0;
            if (dry)
            {
                foreach (var removal in plan.Removals)
                {
                    output.WriteLine($"would remove {removal.Dump.Directory} ({ByteUnits.Size(removal.Dump.Bytes)}): {removal.Why}");
                }
            }
            else
            {
                foreach (var outcome in outcomes)
                {
                    var dump = outcome.Removal.Dump;
                    switch (outcome)
                    {
                        case RemovalOutcome.Removed:
                            output.WriteLine($"removed {dump.Directory} ({ByteUnits.Size(dump.Bytes)}): {outcome.Removal.Why}");
                            break;
                        case RemovalOutcome.Failed failure:
                            failed++;
                            parse.InvocationConfiguration.Error.WriteLine($"netdump-server: prune: cannot remove {dump.Directory}: {failure.Why}");
                            break;
                    }
                }
            }

            if (settings.Retention.MaxTotal is { } maxTotal && plan.TotalAfter > maxTotal)
            {
                output.WriteLine($"dumps hold {ByteUnits.Size(plan.TotalAfter)} on disk, above max_total {ByteUnits.Size(maxTotal)}, and none of the rest may go yet: {plan.Staying}");
            }
            else if (plan.Removals.Count == 0)
            {
                // silence would leave the operator to wonder whether the keys were read at all
                output.WriteLine($"nothing to remove: the retention keys keep every dump ({ByteUnits.Size(plan.TotalBytes)} on disk)");
            }

            if (log is RemovalLog.Unrecorded unrecorded)
            {
                parse.InvocationConfiguration.Error.WriteLine($"netdump-server: prune: {unrecorded.Why}");
            }

            return failed == 0 && log is RemovalLog.Recorded ? ServerCommand.ExitOk : ServerCommand.ExitError;
        });
        return command;
    }
}
