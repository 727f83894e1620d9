using System.Buffers.Binary;
using Elf = Netdump.Actors.Protocol.Linux.ElfMachine;

namespace Netdump.App.Simulation;

/// <summary>
/// What the simulated Linux client's architecture decides, as RHEL4's
/// <c>include/asm-*/netdump.h</c> does: the ELF machine in START, the <c>PAGE_OFFSET</c> and
/// <c>current</c> in its payload, the <c>elf_gregset_t</c> GET_REGS sends (little-endian, with a
/// recognisable instruction pointer) and how the server's version is read.
/// </summary>
public sealed class LinuxMachine
{
    /// <summary>RHEL4 x86_64: <c>__PAGE_OFFSET</c> 0x10000000000, 27 registers, rip at index 16.</summary>
    public static readonly LinuxMachine X86_64 = new(
        "x86_64", Elf.X86_64, wordSize: 8, registerCount: 27, instructionPointerIndex: 16,
        pageOffset: 0x100_0000_0000, instructionPointer: 0xffff_ffff_8011_c0de, zeroVersionReboots: true);

    /// <summary>RHEL4 i386: <c>PAGE_OFFSET</c> 0xc0000000, 17 registers, eip at index 12.</summary>
    public static readonly LinuxMachine I386 = new(
        "i386", Elf.I386, wordSize: 4, registerCount: 17, instructionPointerIndex: 12,
        pageOffset: 0xc000_0000, instructionPointer: 0xc011_c0de, zeroVersionReboots: false);

    private readonly bool zeroVersionReboots;
    private readonly ulong[] registers;

    private LinuxMachine(
        string name, ushort elfMachine, int wordSize, int registerCount, int instructionPointerIndex,
        ulong pageOffset, ulong instructionPointer, bool zeroVersionReboots)
    {
        Name = name;
        ElfMachine = elfMachine;
        WordSize = wordSize;
        InstructionPointerIndex = instructionPointerIndex;
        PageOffset = pageOffset;
        this.zeroVersionReboots = zeroVersionReboots;
        registers = new ulong[registerCount];
        for (var i = 0; i < registerCount; i++)
        {
            // Distinct and non-zero, so that a register stored in the wrong slot shows.
            registers[i] = i == instructionPointerIndex ? instructionPointer : 0x1000UL * (ulong)(i + 1) + (ulong)i;
        }
    }

    public static IReadOnlyList<LinuxMachine> All { get; } = [X86_64, I386];

    /// <summary>The name <c>--arch</c> takes.</summary>
    public string Name { get; }

    /// <summary>The ELF <c>e_machine</c>, sent as START's <c>nr</c>.</summary>
    public ushort ElfMachine { get; }

    /// <summary>Bytes per register in the gregset.</summary>
    public int WordSize { get; }

    public ulong PageOffset { get; }

    /// <summary>The crashing task's <c>task_struct</c> address (<c>current</c>), in the direct map.</summary>
    public ulong TaskStruct => PageOffset + 0x01f4_6030;

    /// <summary>The registers in <c>elf_gregset_t</c> order (for i386, the low 32 bits count).</summary>
    public IReadOnlyList<ulong> Registers => registers;

    public int InstructionPointerIndex { get; }

    public ulong InstructionPointer => registers[InstructionPointerIndex];

    public static LinuxMachine? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The raw <c>elf_gregset_t</c> as <c>platform_get_regs</c> copies it: the machine's byte order, little-endian here.</summary>
    public byte[] Gregset()
    {
        var gregs = new byte[registers.Length * WordSize];
        for (var i = 0; i < registers.Length; i++)
        {
            if (WordSize == 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(gregs.AsSpan(i * 8), registers[i]);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(gregs.AsSpan(i * 4), (uint)registers[i]);
            }
        }

        return gregs;
    }

    /// <summary>
    /// <c>platform_effective_version</c>: the version the client's replies carry once the server
    /// acked with <paramref name="serverVersion"/>. 0 means "server cannot handle this client --
    /// rebooting": what x86_64 answers to a version 0 (i386 falls back to 4 instead), and what a
    /// version whose low byte is 0 gives everywhere, because <c>min_t(unsigned char, ...)</c>
    /// truncates it first.
    /// </summary>
    public byte EffectiveVersion(uint serverVersion)
    {
        if (serverVersion == 0)
        {
            return zeroVersionReboots ? (byte)0 : LinuxSimulatedClient.NetdumpVersion;
        }

        return Math.Min((byte)serverVersion, LinuxSimulatedClient.MaxVersion);
    }

    public override string ToString() => Name;
}
