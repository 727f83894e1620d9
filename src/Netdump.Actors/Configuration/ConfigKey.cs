using Akka.Configuration;

namespace Netdump.Actors.Configuration;

/// <summary>What a key's value must look like in netdump.conf (and on the command line).</summary>
public enum ConfigValueKind
{
    /// <summary>Any text, checked by the settings (addresses, paths, sizes, lists).</summary>
    Text,

    /// <summary>Text that may also be empty, meaning "none" (pidfile, log_file, ...).</summary>
    OptionalText,

    /// <summary>A whole number (port, counts).</summary>
    Integer,

    /// <summary>true/false, yes/no, on/off, 1/0 (any case).</summary>
    Boolean,

    /// <summary>Seconds as a bare number, or a number with a unit (500ms, 2m).</summary>
    Duration,
}

/// <summary>
/// One operator's key of the <c>netdump</c> block (SPEC §6): its name, the same in netdump.hocon,
/// netdump.conf and every settings error; the kind of its value; and the command-line option that
/// sets it, if one does. Every key is in <see cref="ConfigKeys"/>.
/// </summary>
public sealed record ConfigKey(string Name, ConfigValueKind Kind, string? Option = null)
{
    /// <summary>
    /// The error for a bad value of this key: <c>name: problem</c>. The host puts where the value
    /// came from (the option, or the conf file's line) in place of the name.
    /// </summary>
    public ConfigurationException Invalid(string problem) => new($"{Name}: {problem}");

    /// <summary>The name, so that a key written into a message reads as the operator writes it.</summary>
    public override string ToString() => Name;
}
