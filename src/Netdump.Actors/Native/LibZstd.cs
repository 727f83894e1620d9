using System.Runtime.InteropServices;

namespace Netdump.Actors.Native;

/// <summary>
/// The system's libzstd (<c>libzstd.so.1</c>, Debian's libzstd1), called directly: its streaming
/// API with worker threads compresses a core faster than the managed port (ZstdSharp.Port), as
/// fast as <c>zstd -3 -T0</c> (docs/performance.md, "Storage care").
/// Only the streaming calls are bound: <c>ZSTD_compressStream2</c> and
/// <c>ZSTD_decompressStream</c>, with their context handles.
/// </summary>
internal static unsafe partial class LibZstd
{
    public const string Library = "libzstd.so.1";

    /// <summary><c>ZSTD_c_compressionLevel</c>.</summary>
    public const int CompressionLevel = 100;

    /// <summary><c>ZSTD_c_checksumFlag</c>: a content checksum at the end of the frame, as the zstd tool writes.</summary>
    public const int ChecksumFlag = 201;

    /// <summary><c>ZSTD_c_nbWorkers</c>: compression in that many threads of libzstd's own (needs a multithreaded build, as Debian's is).</summary>
    public const int NbWorkers = 400;

    /// <summary><c>ZSTD_e_continue</c> and <c>ZSTD_e_end</c>.</summary>
    public const int Continue = 0, End = 2;

    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Source;
        public nuint Size;
        public nuint Position;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Destination;
        public nuint Size;
        public nuint Position;
    }

    /// <summary>
    /// Null when libzstd can be loaded; otherwise why not, in one line for the operator (the
    /// package that provides it named). Checked at start when <c>compress = zstd</c>, so a
    /// server never runs with a setting it cannot honour.
    /// </summary>
    public static string? WhyUnavailable()
    {
        if (!NativeLibrary.TryLoad(Library, typeof(LibZstd).Assembly, null, out var handle))
        {
            return $"{Library} cannot be loaded (install the libzstd1 package)";
        }

        NativeLibrary.Free(handle);
        return null;
    }

    /// <summary>Throws <see cref="IOException"/> with zstd's name for <paramref name="result"/> when it is an error code.</summary>
    public static nuint Check(nuint result, string what)
    {
        if (ZSTD_isError(result) != 0)
        {
            throw new IOException($"zstd {what}: {Marshal.PtrToStringUTF8(ZSTD_getErrorName(result))}");
        }

        return result;
    }

    [LibraryImport(Library)]
    public static partial nint ZSTD_createCCtx();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeCCtx(nint context);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_CCtx_setParameter(nint context, int parameter, int value);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_compressStream2(nint context, OutBuffer* output, InBuffer* input, int endOp);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_CCtx_setPledgedSrcSize(nint context, ulong size);

    [LibraryImport(Library)]
    public static partial nint ZSTD_createDCtx();

    [LibraryImport(Library)]
    public static partial nuint ZSTD_freeDCtx(nint context);

    [LibraryImport(Library)]
    public static partial nuint ZSTD_decompressStream(nint context, OutBuffer* output, InBuffer* input);

    [LibraryImport(Library)]
    private static partial uint ZSTD_isError(nuint result);

    [LibraryImport(Library)]
    private static partial nint ZSTD_getErrorName(nuint result);
}
