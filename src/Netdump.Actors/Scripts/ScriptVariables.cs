namespace Netdump.Actors.Scripts;

/// <summary>
/// The names of the environment variables the hook scripts get (SPEC §5; docs/operations.md
/// lists which script gets which): one home for the session, the listener and the catalog,
/// which set them.
/// </summary>
public static class ScriptVariables
{
    public const string ClientIp = "NETDUMP_CLIENT_IP";
    public const string DumpDir = "NETDUMP_DUMP_DIR";
    public const string Hostname = "NETDUMP_HOSTNAME";
    public const string Panic = "NETDUMP_PANIC";
    public const string Status = "NETDUMP_STATUS";
    public const string Reason = "NETDUMP_REASON";

    /// <summary>netdump-storm's: the panic group, its hosts (comma-separated) and its kernel.</summary>
    public const string Group = "NETDUMP_GROUP";
    public const string Hosts = "NETDUMP_HOSTS";
    public const string Kernel = "NETDUMP_KERNEL";
}
