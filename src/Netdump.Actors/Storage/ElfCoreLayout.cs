using Netdump.Actors.Protocol.Linux;

namespace Netdump.Actors.Storage;

/// <summary>The ELF file class of a core: the width of its header fields.</summary>
public enum ElfClass : byte
{
    Elf32 = 1,
    Elf64 = 2,
}

/// <summary>
/// Where things go in the core of a Linux (Red Hat netdump) dump (SPEC §7): an ELF core that
/// crash's <c>is_netdump()</c> takes for a netdump file, and the bytes of its header area.
/// The file is the header area (ELF header, a PT_NOTE then a PT_LOAD program header, the
/// notes, zeros) up to <see cref="DataOffset"/>, then physical memory, page frame n at
/// <see cref="DataOffset"/> + n × <see cref="PageSize"/>. crash tells netdump from kdump by the PT_LOAD at program header
/// index 1: a <c>p_offset</c> that is a multiple of 4096 (its MIN_PAGE_SIZE) and a non-zero
/// <c>p_align</c>, which it then takes as the dump's page size.
/// </summary>
public sealed partial class ElfCoreLayout
{
    /// <summary>The smallest page size accepted: the client sends memory in 1024-byte chunks.</summary>
    public const uint MinPageSize = 1024;

    /// <summary>The largest page size accepted (ia64 and ppc64 kernels use 64 KiB pages).</summary>
    public const uint MaxPageSize = 64 * 1024;

    /// <summary>The note type crash reads the panicking task's address from (crash <c>netdump.h</c>).</summary>
    public const uint NtTaskStruct = 4;

    public const uint NtPrStatus = 1;

    /// <summary>crash requires the memory segment's file offset to be a multiple of this (netdump.c MIN_PAGE_SIZE).</summary>
    private const uint CrashMinPageSize = 4096;

    private ElfCoreLayout(ushort machine, ElfClass elfClass, bool bigEndian, uint pageSize, ulong pages, ulong loadAddress)
    {
        Machine = machine;
        Class = elfClass;
        BigEndian = bigEndian;
        PageSize = pageSize;
        Pages = pages;
        LoadAddress = loadAddress;
        DataOffset = Math.Max(pageSize, CrashMinPageSize);
        FileSize = DataOffset + (long)MemoryBytes;
    }

    /// <summary>The ELF <c>e_machine</c> the client sent in its START.</summary>
    public ushort Machine { get; }

    public ElfClass Class { get; }

    /// <summary>True for a big-endian machine: header fields and memory are in the client's byte order.</summary>
    public bool BigEndian { get; }

    public uint PageSize { get; }

    public ulong Pages { get; }

    public ulong MemoryBytes => Pages * PageSize;

    /// <summary>
    /// The PT_LOAD's <c>p_vaddr</c>: the kernel's page_offset, where it maps physical address 0,
    /// so that gdb reads direct-mapped kernel memory by its virtual address. 0 when that mapping
    /// would pass the end of the machine's address space (an i386 with more than 1 GiB); crash
    /// reads a netdump core by <c>p_paddr</c> (0) and does not look at it.
    /// </summary>
    public ulong LoadAddress { get; }

    /// <summary>Where physical memory starts in the file: the end of the header area, page-aligned.</summary>
    public long DataOffset { get; }

    public long FileSize { get; }

    /// <summary>
    /// The layout of a core for <paramref name="pages"/> pages of <paramref name="pageSize"/>
    /// bytes of a <paramref name="machine"/> whose kernel maps physical memory at
    /// <paramref name="pageOffset"/>; false with the reason for numbers no core can hold.
    /// A 32-bit machine gets ELF32 unless its memory passes the 4 GiB that ELF32's offsets and
    /// sizes reach (an i386 with PAE): then ELF64, whose EM_386 crash accepts as well.
    /// </summary>
    public static bool TryCreate(ushort machine, uint pageSize, ulong pages, ulong pageOffset, out ElfCoreLayout? layout, out string? problem)
    {
        layout = null;
        if (machine == 0)
        {
            problem = "machine type 0 is not an ELF machine";
            return false;
        }

        if (pageSize is < MinPageSize or > MaxPageSize || (pageSize & (pageSize - 1)) != 0)
        {
            problem = $"page size {pageSize} is not a power of two from {MinPageSize} to {MaxPageSize}";
            return false;
        }

        var dataOffset = Math.Max(pageSize, CrashMinPageSize);
        if (pages == 0 || pages > (ulong)(long.MaxValue - dataOffset) / pageSize)
        {
            problem = $"{pages} pages of {pageSize} bytes is not a memory size a core file can hold";
            return false;
        }

        var memory = pages * pageSize;
        var is32Bit = ElfMachine.Is32Bit(machine);
        var elfClass = is32Bit && dataOffset + memory <= uint.MaxValue ? ElfClass.Elf32 : ElfClass.Elf64;
        var addressSpaceEnd = is32Bit ? 1UL << 32 : ulong.MaxValue;
        var loadAddress = memory <= addressSpaceEnd && pageOffset <= addressSpaceEnd - memory ? pageOffset : 0;
        layout = new ElfCoreLayout(machine, elfClass, IsBigEndian(machine), pageSize, pages, loadAddress);
        problem = null;
        return true;
    }

    /// <summary>
    /// The byte order of a machine's kernel. Known big-endian: SPARC, PowerPC, PPC64, S/390,
    /// SPARC V9; every other machine (x86, x86_64, ia64, ARM; MIPS, which can be either) is
    /// taken as little-endian.
    /// </summary>
    private static bool IsBigEndian(ushort machine) => machine is 2 or 20 or 21 or 22 or 43;
}
