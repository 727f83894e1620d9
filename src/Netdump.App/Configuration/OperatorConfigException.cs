namespace Netdump.App.Configuration;

/// <summary>
/// A start-up problem the operator has to fix: a bad line in netdump.conf, a bad value, a missing
/// <c>--config</c> file, a dump directory that cannot be written, a port that cannot be bound.
/// The message is one line, already saying where the problem is (file and line, option or key);
/// the command prints it after <c>netdump-server: </c> and exits 1.
/// </summary>
public sealed class OperatorConfigException : Exception
{
    public OperatorConfigException(string message)
        : base(message)
    {
    }

    public OperatorConfigException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
