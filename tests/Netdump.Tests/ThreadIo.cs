namespace Netdump.Tests;

/// <summary>
/// The bytes a thread moved through read and write system calls, from its <c>io</c> file in
/// /proc (<c>rchar</c>, <c>wchar</c>): files, pipes and /proc itself count, a socket's sends and
/// receives do not.
/// </summary>
internal static class ThreadIo
{
    /// <summary>The calling thread's.</summary>
    public static (long Read, long Written) Current() => Of("/proc/thread-self/io");

    /// <summary>Another thread of this process, by its /proc/self/task directory.</summary>
    public static (long Read, long Written) OfTask(string task) => Of(Path.Combine(task, "io"));

    private static (long Read, long Written) Of(string io)
    {
        var fields = File.ReadAllLines(io).Select(line => line.Split(':')).ToDictionary(f => f[0], f => long.Parse(f[1].Trim()));
        return (fields["rchar"], fields["wchar"]);
    }
}
