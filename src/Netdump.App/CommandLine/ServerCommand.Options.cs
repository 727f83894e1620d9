using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using Netdump.App.Configuration;

namespace Netdump.App.CommandLine;

/// <summary>The kinds of option the root command takes, and its <c>--version</c>.</summary>
public static partial class ServerCommand
{
    private static Option<string?> Text(string name, string helpName, string description) =>
        new(name) { HelpName = helpName, Description = description };

    /// <summary>A whole number; anything else is a parse error naming the option.</summary>
    private static Option<int?> Integer(string name, string helpName, string description) => new(name)
    {
        HelpName = helpName,
        Description = description,
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            result.AddError($"{name}: \"{text}\" is not a number");
            return null;
        },
    };

    /// <summary>
    /// 0/1, true/false, yes/no, on/off (netdump.conf's booleans). Taken as text: System.CommandLine
    /// would only let a bool option take "true" or "false"; <see cref="ServerOptions"/> converts it.
    /// </summary>
    private static Option<string?> Boolean(string name, string description)
    {
        var option = new Option<string?>(name) { HelpName = "0|1", Description = description, Arity = ArgumentArity.ExactlyOne };
        option.Validators.Add(result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (!NetdumpConfFile.TryParseBoolean(text, out _))
            {
                result.AddError($"{name}: \"{text}\" is not 0 or 1 (or true/false, yes/no, on/off)");
            }
        });
        return option;
    }

    /// <summary>An option without a value, like the Red Hat server's <c>--daemon</c>.</summary>
    private static Option<bool> Flag(string name, string description) =>
        new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary><c>--version</c>: the version alone (<c>0.1.0</c>), without the source revision .NET appends.</summary>
    private sealed class PrintVersion : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Version);
            return ExitOk;
        }
    }
}
