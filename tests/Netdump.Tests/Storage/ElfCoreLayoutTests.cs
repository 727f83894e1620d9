using System.Buffers.Binary;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class ElfCoreLayoutTests
{
    private const ushort Ppc64 = 21;

    [Fact]
    public void Layout_should_put_memory_at_the_first_page_after_the_header()
    {
        var layout = ElfCoreSample.Layout(ElfMachine.X86_64, 4096, 1000, ElfCoreSample.X86_64PageOffset);

        Assert.Equal(ElfClass.Elf64, layout.Class);
        Assert.Equal(4096, layout.DataOffset);
        Assert.Equal(4096 + 1000 * 4096, layout.FileSize);
        Assert.Equal(1000UL * 4096, layout.MemoryBytes);
    }

    [Theory]
    [InlineData(1024u, 4096)] // crash wants p_offset on a 4096 boundary whatever the page size
    [InlineData(2048u, 4096)]
    [InlineData(8192u, 8192)]
    [InlineData(65536u, 65536)]
    public void Data_offset_should_be_aligned_to_the_page_and_to_crash_s_4096(uint pageSize, long dataOffset)
    {
        var layout = ElfCoreSample.Layout(ElfMachine.X86_64, pageSize, 3, 0);

        Assert.Equal(dataOffset, layout.DataOffset);
        Assert.Equal(dataOffset + 3 * pageSize, layout.FileSize);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(512u)]
    [InlineData(3000u)]
    [InlineData(131072u)]
    public void A_page_size_that_is_no_power_of_two_from_1024_to_64_KiB_should_be_refused(uint pageSize)
    {
        Assert.False(ElfCoreLayout.TryCreate(ElfMachine.X86_64, pageSize, 10, 0, out var layout, out var problem));

        Assert.Null(layout);
        Assert.Equal($"page size {pageSize} is not a power of two from 1024 to 65536", problem);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 51)] // 2^63 bytes of 4 KiB pages: the file would pass long.MaxValue
    public void A_page_count_no_file_can_hold_should_be_refused(ulong pages)
    {
        Assert.False(ElfCoreLayout.TryCreate(ElfMachine.X86_64, 4096, pages, 0, out var layout, out var problem));

        Assert.Null(layout);
        Assert.Equal($"{pages} pages of 4096 bytes is not a memory size a core file can hold", problem);
    }

    [Fact]
    public void The_largest_page_count_a_file_can_hold_should_be_accepted()
    {
        var pages = (ulong)(long.MaxValue - 4096) / 4096;

        var layout = ElfCoreSample.Layout(ElfMachine.X86_64, 4096, pages, 0);

        Assert.Equal(4096 + (long)pages * 4096, layout.FileSize);
    }

    [Fact]
    public void Machine_zero_should_be_refused()
    {
        Assert.False(ElfCoreLayout.TryCreate(0, 4096, 10, 0, out _, out var problem));
        Assert.Equal("machine type 0 is not an ELF machine", problem);
    }

    [Fact]
    public void An_i386_should_get_elf32_until_its_memory_passes_4_GiB()
    {
        var small = ElfCoreSample.Layout(ElfMachine.I386, 4096, (uint.MaxValue - 4096UL) / 4096, ElfCoreSample.I386PageOffset);
        var large = ElfCoreSample.Layout(ElfMachine.I386, 4096, (uint.MaxValue - 4096UL) / 4096 + 1, ElfCoreSample.I386PageOffset);

        Assert.Equal(ElfClass.Elf32, small.Class);
        Assert.Equal(ElfClass.Elf64, large.Class);
        Assert.Equal(ElfMachine.I386, Half(large.Header([], ElfCoreSample.TaskStruct), 18, bigEndian: false));
    }

    [Theory]
    [InlineData(ElfMachine.I386, ElfCoreSample.I386PageOffset, 262_144UL, ElfCoreSample.I386PageOffset)] // 1 GiB: fits
    [InlineData(ElfMachine.I386, ElfCoreSample.I386PageOffset, 262_145UL, 0UL)] // would pass 4 GiB
    [InlineData(ElfMachine.I386, ElfCoreSample.I386PageOffset, 2_097_152UL, 0UL)] // 8 GiB (PAE): more than the address space
    [InlineData(ElfMachine.X86_64, ElfCoreSample.X86_64PageOffset, 16_777_216UL, ElfCoreSample.X86_64PageOffset)]
    [InlineData(ElfMachine.X86_64, 0xfffffffffffff000UL, 2UL, 0UL)]
    public void The_load_address_should_be_page_offset_where_the_mapping_fits_the_address_space(ushort machine, ulong pageOffset, ulong pages, ulong loadAddress)
    {
        var layout = ElfCoreSample.Layout(machine, 4096, pages, pageOffset);

        Assert.Equal(loadAddress, layout.LoadAddress);
    }

    [Theory]
    [InlineData(ElfMachine.X86_64, 1024u)]
    [InlineData(ElfMachine.X86_64, 16384u)]
    [InlineData(ElfMachine.I386, 4096u)]
    public void Header_should_be_what_crash_takes_for_a_netdump_core(ushort machine, uint pageSize)
    {
        var layout = ElfCoreSample.Layout(machine, pageSize, 100, 0);
        var header = layout.Header(ElfCoreSample.Gregs(machine), ElfCoreSample.TaskStruct);
        var elf = new ElfView(header, layout.Class == ElfClass.Elf64, bigEndian: false);

        Assert.Equal(layout.DataOffset, header.Length);
        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        Assert.Equal(1, header[6]); // EI_VERSION
        Assert.Equal(4, elf.Half(16)); // ET_CORE
        Assert.Equal(machine, elf.Half(18));
        Assert.Equal(1u, elf.Word32(20));
        Assert.Equal(2, elf.PhNum);
        Assert.Equal((ulong)elf.EhSize, elf.PhOff); // the program headers follow the ELF header
        Assert.Equal(4u, elf.PType(0)); // PT_NOTE first
        Assert.Equal(1u, elf.PType(1)); // then PT_LOAD
        Assert.Equal((ulong)layout.DataOffset, elf.POffset(1));
        Assert.Equal(0UL, elf.POffset(1) % 4096);
        Assert.Equal(pageSize, elf.PAlign(1)); // crash takes it for the page size
        Assert.Equal(0UL, elf.PPaddr(1));
        Assert.Equal(100UL * pageSize, elf.PFilesz(1));
        Assert.Equal(100UL * pageSize, elf.PMemsz(1));
    }

    [Theory]
    [InlineData(ElfMachine.X86_64, 336, 112)]
    [InlineData(ElfMachine.I386, 144, 72)]
    public void Prstatus_should_hold_the_client_s_gregset_at_pr_reg(ushort machine, int size, int prReg)
    {
        var layout = ElfCoreSample.Layout(machine, 4096, 16, 0);
        var gregs = ElfCoreSample.Gregs(machine);

        var notes = new ElfView(layout.Header(gregs, ElfCoreSample.TaskStruct), layout.Class == ElfClass.Elf64, bigEndian: false).Notes();

        Assert.Equal([1u, 4u], notes.Select(note => note.Type));
        var prstatus = notes[0];
        Assert.Equal("CORE", prstatus.Name);
        Assert.Equal(size, prstatus.Descriptor.Length);
        Assert.Equal(gregs, prstatus.Descriptor[prReg..(prReg + gregs.Length)]);
        Assert.All(prstatus.Descriptor[..prReg].Concat(prstatus.Descriptor[(prReg + gregs.Length)..]), b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(ElfMachine.X86_64, 8)]
    [InlineData(ElfMachine.I386, 4)]
    public void Task_struct_should_be_where_crash_reads_it(ushort machine, int width)
    {
        var layout = ElfCoreSample.Layout(machine, 4096, 16, 0);
        var header = layout.Header(ElfCoreSample.Gregs(machine), ElfCoreSample.TaskStruct);
        var note = new ElfView(header, layout.Class == ElfClass.Elf64, bigEndian: false).Notes()[1];

        // crash: nd->task_struct = *(ulong *)(name + n_namesz), with no rounding up
        var crashRead = header.AsSpan(note.NameOffset + note.NameSize, width);

        Assert.Equal(4, note.NameSize);
        Assert.Equal(width, note.Descriptor.Length);
        Assert.Equal(ElfCoreSample.TaskStruct, width == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(crashRead) : BinaryPrimitives.ReadUInt32LittleEndian(crashRead));
    }

    [Fact]
    public void A_client_without_registers_should_get_only_the_task_struct_note()
    {
        var layout = ElfCoreSample.Layout(ElfMachine.X86_64, 4096, 16, 0);

        var notes = new ElfView(layout.Header([], ElfCoreSample.TaskStruct), wide: true, bigEndian: false).Notes();

        Assert.Equal([4u], notes.Select(note => note.Type));
    }

    [Fact]
    public void A_gregset_of_the_wrong_size_should_be_a_caller_error()
    {
        var layout = ElfCoreSample.Layout(ElfMachine.X86_64, 4096, 16, 0);

        Assert.Throws<ArgumentException>(() => layout.Header(new byte[17 * 4], ElfCoreSample.TaskStruct));
    }

    [Fact]
    public void A_machine_of_unknown_register_layout_should_get_its_byte_order_and_no_prstatus()
    {
        var layout = ElfCoreSample.Layout(Ppc64, 65536, 16, 0);
        var header = layout.Header(new byte[48 * 8], ElfCoreSample.TaskStruct);
        var elf = new ElfView(header, wide: true, bigEndian: true);

        Assert.True(layout.BigEndian);
        Assert.Equal(2, header[5]); // ELFDATA2MSB
        Assert.Equal(Ppc64, elf.Half(18));
        Assert.Equal(65536UL, elf.PAlign(1));
        var note = Assert.Single(elf.Notes());
        Assert.Equal(4u, note.Type);
        Assert.Equal(ElfCoreSample.TaskStruct, BinaryPrimitives.ReadUInt64BigEndian(note.Descriptor));
    }

    private static ushort Half(byte[] bytes, int at, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));

    private sealed record Note(uint Type, string Name, int NameOffset, int NameSize, byte[] Descriptor);

    /// <summary>Reads the header fields back the way the ELF specification places them, independently of the writer.</summary>
    private sealed class ElfView(byte[] bytes, bool wide, bool bigEndian)
    {
        public int EhSize => Half(wide ? 52 : 40);

        public int PhNum => Half(wide ? 56 : 44);

        public ulong PhOff => Word(wide ? 32 : 28);

        public ushort Half(int at) => ElfCoreLayoutTests.Half(bytes, at, bigEndian);

        public uint Word32(int at) =>
            bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));

        public ulong Word(int at) => !wide ? Word32(at)
            : bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));

        public uint PType(int index) => Word32(Phdr(index));

        public ulong POffset(int index) => Word(Phdr(index) + (wide ? 8 : 4));

        public ulong PPaddr(int index) => Word(Phdr(index) + (wide ? 24 : 12));

        public ulong PFilesz(int index) => Word(Phdr(index) + (wide ? 32 : 16));

        public ulong PMemsz(int index) => Word(Phdr(index) + (wide ? 40 : 20));

        public ulong PAlign(int index) => Word(Phdr(index) + (wide ? 48 : 28));

        public List<Note> Notes()
        {
            var notes = new List<Note>();
            var at = (int)POffset(0);
            var end = at + (int)Word(Phdr(0) + (wide ? 32 : 16));
            while (at < end)
            {
                var nameSize = (int)Word32(at);
                var descriptorSize = (int)Word32(at + 4);
                var name = System.Text.Encoding.ASCII.GetString(bytes, at + 12, nameSize).TrimEnd('\0');
                var descriptorAt = at + 12 + ((nameSize + 3) & ~3);
                notes.Add(new Note(Word32(at + 8), name, at + 12, nameSize, bytes[descriptorAt..(descriptorAt + descriptorSize)]));
                at = descriptorAt + ((descriptorSize + 3) & ~3);
            }

            Assert.Equal(end, at);
            return notes;
        }

        private int Phdr(int index) => (int)PhOff + index * Half(wide ? 54 : 42);
    }
}
