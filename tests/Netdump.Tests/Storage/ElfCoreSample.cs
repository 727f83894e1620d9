using System.Buffers.Binary;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>
/// A client's registers and memory with recognisable values, for the core layout tests: an
/// <c>elf_gregset_t</c> whose register i holds 0x100 + i except the instruction pointer, and
/// pages holding their own frame number in text.
/// </summary>
internal static class ElfCoreSample
{
    public const ulong TaskStruct = 0xc1234560;
    public const ulong X86_64PageOffset = 0xffff810000000000;
    public const ulong I386PageOffset = 0xc0000000;

    /// <summary>The instruction pointer written into the gregset: rip (index 16) or eip (index 12).</summary>
    public static ulong InstructionPointer(ushort machine) => machine == ElfMachine.X86_64 ? 0xffffffff8012abcdUL : 0xc012abcdUL;

    public static byte[] Gregs(ushort machine)
    {
        var wide = machine == ElfMachine.X86_64;
        var width = wide ? 8 : 4;
        var gregs = new byte[LinuxRegisters.GregsetSize(machine)!.Value];
        for (var i = 0; i < gregs.Length / width; i++)
        {
            var value = i == (wide ? 16 : 12) ? InstructionPointer(machine) : 0x100UL + (ulong)i;
            if (wide)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(gregs.AsSpan(i * width), value);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(gregs.AsSpan(i * width), (uint)value);
            }
        }

        return gregs;
    }

    public static ElfCoreLayout Layout(ushort machine, uint pageSize, ulong pages, ulong pageOffset)
    {
        Assert.True(ElfCoreLayout.TryCreate(machine, pageSize, pages, pageOffset, out var layout, out var problem), problem);
        return layout!;
    }

    public static string PageText(ulong pfn) => $"page frame {pfn}";

    /// <summary>Where page frame <paramref name="pfn"/> starts in the core: memory begins at the data offset, one page per frame.</summary>
    public static long OffsetOf(ElfCoreLayout layout, ulong pfn) => layout.DataOffset + (long)(pfn * layout.PageSize);

    /// <summary>Writes a core as the writer will: the header, the given pages' text at their offsets, the rest sparse.</summary>
    public static void WriteCore(string path, ElfCoreLayout layout, ReadOnlySpan<byte> gregs, params ulong[] pfns)
    {
        using var file = File.Create(path);
        file.Write(layout.Header(gregs, TaskStruct));
        file.SetLength(layout.FileSize);
        foreach (var pfn in pfns)
        {
            file.Position = OffsetOf(layout, pfn);
            file.Write(System.Text.Encoding.ASCII.GetBytes(PageText(pfn) + "\0"));
        }
    }
}
