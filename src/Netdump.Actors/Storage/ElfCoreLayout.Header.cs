using System.Buffers.Binary;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.Actors.Storage;

/// <summary>The header area's bytes: the ELF header, the PT_NOTE and PT_LOAD program headers and the notes, in the core's byte order.</summary>
public sealed partial class ElfCoreLayout
{
    // crash reads a note's descriptor at name + n_namesz, unaligned: the netdump server wrote
    // "CORE" with n_namesz 4 (no NUL, as 2.4 kernels did), which crash reads right, while
    // kdump's n_namesz 5 needs crash's "off-by-1" special case. readelf and gdb take both.
    private static readonly byte[] NoteName = "CORE"u8.ToArray();
    private const int NoteHeaderSize = 12;

    /// <summary>
    /// The header area, <see cref="DataOffset"/> bytes: the ELF header, the PT_NOTE and PT_LOAD
    /// program headers, an NT_PRSTATUS note holding <paramref name="gregs"/> when the client sent
    /// registers of a machine whose <c>elf_prstatus</c> layout is known (i386, x86_64), and an
    /// NT_TASKSTRUCT note holding <paramref name="taskStruct"/>, the panicking task crash starts
    /// from. <paramref name="gregs"/> is the raw <c>elf_gregset_t</c> as
    /// <see cref="LinuxRegisters.TryRead"/> returns it (its size checked there), or empty.
    /// </summary>
    public byte[] Header(ReadOnlySpan<byte> gregs, ulong taskStruct)
    {
        var header = new byte[DataOffset];
        var writer = new FieldWriter(header, BigEndian);
        var wide = Class == ElfClass.Elf64;
        var ehdrSize = wide ? 64 : 52;
        var phdrSize = wide ? 56 : 32;
        var notesOffset = ehdrSize + 2 * phdrSize;

        var notesEnd = notesOffset;
        if (PrStatus.For(Machine) is { } prStatus && !gregs.IsEmpty)
        {
            if (gregs.Length != prStatus.GregsetSize)
            {
                throw new ArgumentException($"{gregs.Length} register bytes where machine {Machine} has {prStatus.GregsetSize}", nameof(gregs));
            }

            var descriptor = new byte[prStatus.Size];
            gregs.CopyTo(descriptor.AsSpan(prStatus.RegistersOffset));
            notesEnd = WriteNote(writer, notesEnd, NtPrStatus, descriptor);
        }

        var task = new byte[ElfMachine.Is32Bit(Machine) ? 4 : 8];
        new FieldWriter(task, BigEndian).Word(0, taskStruct, task.Length == 8);
        notesEnd = WriteNote(writer, notesEnd, NtTaskStruct, task);

        WriteElfHeader(writer, wide, ehdrSize, phdrSize);
        WriteProgramHeader(writer, wide, ehdrSize, PtNote, flags: 0, (ulong)notesOffset, address: 0, (ulong)(notesEnd - notesOffset), memorySize: 0, align: 0);
        WriteProgramHeader(writer, wide, ehdrSize + phdrSize, PtLoad, PfRead | PfWrite | PfExecute, (ulong)DataOffset, LoadAddress, MemoryBytes, MemoryBytes, PageSize);
        return header;
    }

    private const uint PtLoad = 1;
    private const uint PtNote = 4;
    private const uint PfExecute = 1;
    private const uint PfWrite = 2;
    private const uint PfRead = 4;

    private void WriteElfHeader(FieldWriter writer, bool wide, int ehdrSize, int phdrSize)
    {
        "\u007fELF"u8.CopyTo(writer.Bytes);
        writer.Bytes[4] = (byte)Class;
        writer.Bytes[5] = (byte)(BigEndian ? 2 : 1); // EI_DATA: ELFDATA2MSB / ELFDATA2LSB
        writer.Bytes[6] = 1; // EI_VERSION: EV_CURRENT
        writer.Half(16, 4); // e_type: ET_CORE
        writer.Half(18, Machine);
        writer.Word32(20, 1); // e_version
        // e_entry and e_shoff stay 0; e_phoff follows the ELF header, as crash expects
        var at = 24 + (wide ? 8 : 4);
        writer.Word(at, (ulong)ehdrSize, wide);
        at += (wide ? 16 : 8) + 4; // e_phoff, e_shoff, e_flags
        writer.Half(at, (ushort)ehdrSize);
        writer.Half(at + 2, (ushort)phdrSize);
        writer.Half(at + 4, 2); // e_phnum; no section headers
    }

    private static void WriteProgramHeader(FieldWriter writer, bool wide, int at, uint type, uint flags, ulong offset, ulong address, ulong fileSize, ulong memorySize, ulong align)
    {
        writer.Word32(at, type);
        if (wide)
        {
            writer.Word32(at + 4, flags);
            at += 8;
        }
        else
        {
            writer.Word32(at + 24, flags);
            at += 4;
        }

        var step = wide ? 8 : 4;
        writer.Word(at, offset, wide);
        writer.Word(at + step, address, wide); // p_vaddr; p_paddr (physical address 0) stays 0
        writer.Word(at + 3 * step, fileSize, wide);
        writer.Word(at + 4 * step, memorySize, wide);
        writer.Word(at + (wide ? 5 * step : 6 * step), align, wide);
    }

    /// <summary>Writes one note at <paramref name="at"/>; returns where the next one starts.</summary>
    private static int WriteNote(FieldWriter writer, int at, uint type, ReadOnlySpan<byte> descriptor)
    {
        writer.Word32(at, (uint)NoteName.Length);
        writer.Word32(at + 4, (uint)descriptor.Length);
        writer.Word32(at + 8, type);
        NoteName.CopyTo(writer.Bytes.AsSpan(at + NoteHeaderSize));
        var descriptorAt = at + NoteHeaderSize + NoteName.Length;
        descriptor.CopyTo(writer.Bytes.AsSpan(descriptorAt));
        return descriptorAt + ((descriptor.Length + 3) & ~3);
    }

    /// <summary>
    /// A machine's <c>struct elf_prstatus</c> (Linux <c>include/linux/elfcore.h</c>, glibc
    /// <c>sys/procfs.h</c>): its size and where <c>pr_reg</c>, the <c>elf_gregset_t</c>, sits.
    /// x86_64: 336 bytes, pr_reg (27 x 8) at 112, pr_fpvalid at 328 (checked with offsetof on
    /// x86_64 glibc). i386: 144 bytes, pr_reg (17 x 4) at 72: elf_siginfo (12), pr_cursig
    /// (short, padded to 16), sigpend and sighold (4 each), pid, ppid, pgrp, sid (4 each), four
    /// timevals (8 each), then pr_reg and pr_fpvalid (4). These are the sizes bfd's
    /// grok_prstatus recognises, and crash finds pr_reg from the note's end (size minus the
    /// gregset minus pr_fpvalid), so the size must be exact. The rest stays 0 (pid 0: the
    /// client does not send it). Other machines get no NT_PRSTATUS: their layouts are not
    /// known here, and a wrong one would show wrong registers.
    /// </summary>
    private sealed record PrStatus(int Size, int RegistersOffset, int GregsetSize)
    {
        private static readonly PrStatus I386 = new(144, 72, 17 * 4);
        private static readonly PrStatus X86_64 = new(336, 112, 27 * 8);

        public static PrStatus? For(ushort machine) => machine switch
        {
            ElfMachine.I386 => I386,
            ElfMachine.X86_64 => X86_64,
            _ => null,
        };
    }

    /// <summary>Writes ELF fields in the core's byte order.</summary>
    private readonly struct FieldWriter(byte[] bytes, bool bigEndian)
    {
        public byte[] Bytes { get; } = bytes;

        public void Half(int at, ushort value)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt16BigEndian(Bytes.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(at), value);
            }
        }

        public void Word32(int at, uint value)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteUInt32BigEndian(Bytes.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(at), value);
            }
        }

        /// <summary>An address, offset or size: 8 bytes in ELF64, 4 in ELF32.</summary>
        public void Word(int at, ulong value, bool wide)
        {
            if (!wide)
            {
                Word32(at, (uint)value);
            }
            else if (bigEndian)
            {
                BinaryPrimitives.WriteUInt64BigEndian(Bytes.AsSpan(at), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(at), value);
            }
        }
    }
}
