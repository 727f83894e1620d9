using Netdump.Actors.Protocol.Linux;

namespace Netdump.Tests.Protocol.Linux;

public sealed class LinuxRegistersTests
{
    private const ushort Ia64 = 50; // EM_IA_64: a machine whose gregset layout is not known here

    [Fact]
    public void The_gregset_sizes_are_those_of_elf_gregset_t()
    {
        Assert.Equal(68, LinuxRegisters.GregsetSize(ElfMachine.I386)); // 17 longs of 4 bytes
        Assert.Equal(216, LinuxRegisters.GregsetSize(ElfMachine.X86_64)); // 27 longs of 8 bytes
        Assert.Null(LinuxRegisters.GregsetSize(Ia64));
        Assert.Null(LinuxRegisters.GregsetSize(0));
    }

    [Fact]
    public void Literal_i386_reply_regs_datagram_gives_the_68_register_bytes()
    {
        // platform_get_regs: sprintf("Sending register info.\n"), then memcpy of elf_regs;
        // info = totalram_pages; the gregset in the client's (little-endian) byte order
        var gregs = Enumerable.Range(0, 68).Select(i => (byte)i).ToArray();
        var datagram = Convert.FromHexString(
            "05" + "00000003" + "0000000A" + "0003E000" +
            Convert.ToHexString("Sending register info.\n"u8) + Convert.ToHexString(gregs));

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out var header));
        Assert.Equal(new LinuxReplyHeader(5, 3, LinuxReplyCode.Regs, 0x3E000), header);
        Assert.True(LinuxRegisters.TryRead(ElfMachine.I386, datagram.AsSpan(LinuxReplyHeader.Size), out var read, out var problem), problem);
        Assert.Null(problem);
        Assert.Equal(gregs, read.ToArray());
    }

    [Theory]
    [InlineData(ElfMachine.I386, 68, 5)]
    [InlineData(ElfMachine.X86_64, 216, 40)]
    public void A_reply_regs_as_the_kernel_sends_it_with_the_bytes_strlen_counted_past_the_preamble_gives_the_registers(ushort machine, int size, int firstZero)
    {
        // platform_get_regs returns strlen(tmp) + sizeof(elf_regs), with the registers copied over
        // the preamble's NUL: strlen runs on into them, up to their first zero byte, and that many
        // bytes more of the buffer follow them in the datagram
        var gregs = Enumerable.Range(1, size).Select(i => (byte)i).ToArray();
        gregs[firstZero] = 0;
        var leftover = Enumerable.Repeat((byte)0xAA, firstZero).ToArray();
        byte[] payload = [.. "Sending register info.\n"u8, .. gregs, .. leftover];

        Assert.True(LinuxRegisters.TryRead(machine, payload, out var read, out var problem), problem);
        Assert.Equal(gregs, read.ToArray());
    }

    [Fact]
    public void An_x86_64_reply_regs_gives_the_216_register_bytes_and_fits_one_datagram()
    {
        var gregs = Enumerable.Range(0, 216).Select(i => (byte)(255 - i)).ToArray();
        var datagram = LinuxDatagrams.Reply(LinuxReplyCode.Regs, 0x3E000, [.. "Sending register info.\n"u8, .. gregs]);

        Assert.Equal(LinuxReplyError.None, LinuxReplyHeader.TryRead(datagram, out _));
        Assert.True(LinuxRegisters.TryRead(ElfMachine.X86_64, datagram.AsSpan(LinuxReplyHeader.Size), out var read, out _));
        Assert.Equal(gregs, read.ToArray());
    }

    [Theory]
    [InlineData(ElfMachine.I386, 0)]
    [InlineData(ElfMachine.I386, 67)]
    [InlineData(ElfMachine.I386, 69)]
    [InlineData(ElfMachine.I386, 216)] // an x86_64 gregset from a client that said i386
    [InlineData(ElfMachine.X86_64, 68)]
    [InlineData(ElfMachine.X86_64, 215)]
    [InlineData(ElfMachine.X86_64, 217)]
    public void A_gregset_of_the_wrong_size_for_the_machine_is_refused(ushort machine, int size)
    {
        byte[] payload = [.. "Sending register info.\n"u8, .. new byte[size]];

        Assert.False(LinuxRegisters.TryRead(machine, payload, out var gregs, out var problem));
        Assert.True(gregs.IsEmpty);
        Assert.Equal($"REPLY_REGS of {size} register bytes where machine {machine} has {LinuxRegisters.GregsetSize(machine)}", problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sending register info.\n")] // lower case
    [InlineData("Sending register info.")] // the newline missing
    [InlineData("Sending register info\n")]
    [InlineData("\nSending register info.\n")]
    public void A_reply_regs_without_the_preamble_is_refused(string preamble)
    {
        byte[] payload = [.. LinuxDatagrams.Ascii(preamble), .. new byte[68]];

        Assert.False(LinuxRegisters.TryRead(ElfMachine.I386, payload, out var gregs, out var problem));
        Assert.True(gregs.IsEmpty);
        Assert.Equal("REPLY_REGS without \"Sending register info.\"", problem);
    }

    [Fact]
    public void A_payload_shorter_than_the_preamble_is_refused()
    {
        Assert.False(LinuxRegisters.TryRead(ElfMachine.X86_64, "Sending"u8, out _, out var problem));
        Assert.NotNull(problem);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void For_a_machine_of_unknown_layout_every_byte_after_the_preamble_is_the_gregset(int size)
    {
        byte[] payload = [.. "Sending register info.\n"u8, .. Enumerable.Repeat((byte)7, size)];

        Assert.True(LinuxRegisters.TryRead(Ia64, payload, out var gregs, out var problem));
        Assert.Null(problem);
        Assert.Equal(size, gregs.Length);
    }
}
