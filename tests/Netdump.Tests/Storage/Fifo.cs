using System.Runtime.InteropServices;

namespace Netdump.Tests.Storage;

/// <summary>Makes a named pipe, the file that opens for reading only when a writer comes.</summary>
internal static partial class Fifo
{
    public static string Make(string path)
    {
        Assert.Equal(0, mkfifo(path, Convert.ToUInt32("600", 8)));
        return path;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);
}
