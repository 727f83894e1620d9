using System.Diagnostics;
using Netdump.Actors.Protocol.Linux;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>
/// The core as the tools read it (SPEC §7): readelf parses its header and notes, gdb shows the
/// registers the client sent and reads memory at the kernel's virtual addresses. The tools
/// come from binutils and gdb, which .ci/run installs where they are missing; without them
/// these tests fail saying so, rather than passing without looking.
/// </summary>
public sealed class ElfCoreToolTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(ElfMachine.X86_64, "ELF64", "Advanced Micro Devices X86-64")]
    [InlineData(ElfMachine.I386, "ELF32", "Intel 80386")]
    public void Readelf_should_read_the_header_the_program_headers_and_the_notes(ushort machine, string elfClass, string machineName)
    {
        var core = WriteCore(machine);

        var output = Run("readelf", "-W", "-h", "-l", "-n", core);

        Assert.Matches($@"Class:\s+{elfClass}\n", output);
        Assert.Matches(@"Type:\s+CORE \(Core file\)\n", output);
        Assert.Matches($@"Machine:\s+{machineName}\n", output);
        var segments = output.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith("NOTE ") || line.StartsWith("LOAD ")).ToList();
        Assert.Equal(["NOTE", "LOAD"], segments.Select(line => line[..4]));
        Assert.Matches(@"^LOAD\s+0x0*1000\s.*RWE 0x1000$", segments[1]); // page-aligned offset, p_align = page size
        Assert.Matches(@"CORE\s+0x\w+\s+NT_PRSTATUS \(prstatus structure\)", output);
        Assert.Matches(@"CORE\s+0x\w+\s+NT_TASKSTRUCT \(task structure\)", output);
    }

    [Theory]
    [InlineData(ElfMachine.X86_64, "rip", "rbx", 0x105)] // user_regs_struct: rbx is register 5
    [InlineData(ElfMachine.I386, "eip", "ebx", 0x100)] // i386: ebx is register 0
    public void Gdb_should_show_the_registers_the_client_sent(ushort machine, string ip, string other, int otherValue)
    {
        var core = WriteCore(machine);

        var output = Run("gdb", "-batch", "-nx", "-c", core, "-ex", $"info registers {ip} {other}");

        Assert.Matches($@"{ip}\s+0x{ElfCoreSample.InstructionPointer(machine):x}\s", output);
        Assert.Matches($@"{other}\s+0x{otherValue:x}\s", output);
    }

    [Theory]
    [InlineData(ElfMachine.X86_64, ElfCoreSample.X86_64PageOffset)]
    [InlineData(ElfMachine.I386, ElfCoreSample.I386PageOffset)]
    public void Gdb_should_read_a_page_at_its_kernel_virtual_address(ushort machine, ulong pageOffset)
    {
        var core = WriteCore(machine);

        var output = Run("gdb", "-batch", "-nx", "-c", core, "-ex", $"x/s 0x{pageOffset + 5 * 4096:x}");

        Assert.Contains($"\"{ElfCoreSample.PageText(5)}\"", output);
    }

    private string WriteCore(ushort machine)
    {
        var pageOffset = machine == ElfMachine.X86_64 ? ElfCoreSample.X86_64PageOffset : ElfCoreSample.I386PageOffset;
        var layout = ElfCoreSample.Layout(machine, 4096, 64, pageOffset);
        var path = _temp.Combine("vmcore");
        ElfCoreSample.WriteCore(path, layout, ElfCoreSample.Gregs(machine), 0, 5, 63);
        return path;
    }

    /// <summary>Runs a tool the core tests need (<see cref="Packaging.Tool"/>), saying how to get it when it is missing.</summary>
    internal static string Run(string tool, params string[] arguments)
    {
        Assert.True(Packaging.Tool.OnPath(tool), $"{tool} is not installed: install binutils and gdb (apt-get install binutils gdb), as .ci/run does");
        return Packaging.Tool.Check(tool, arguments);
    }
}
