using System.Text;
using Netdump.Actors.Protocol.Linux;

namespace Netdump.App.Simulation;

/// <summary>The answers to requests: pages, registers and SHOW_STATE text made in command_tmp, and console text by printk.</summary>
internal sealed partial class LinuxTransfer
{
    /// <summary>netconsole's <c>MAX_PRINT_CHUNK</c>: one printk leaves in pieces of at most this many bytes.</summary>
    private const int ConsoleChunk = 1000;

    /// <summary><c>command_tmp</c>, the kernel's reply text buffer.</summary>
    private const int CommandTextSize = 1024;

    // The kernel's static command_tmp: SHOW_STATE answers with whatever text the last command left in it.
    private readonly byte[] commandText = new byte[CommandTextSize];

    private readonly byte[] page = new byte[LinuxMemory.PageSize];

    /// <summary><c>send_netdump_mem</c>; false when the simulated client dies instead.</summary>
    private bool SendPage(LinuxRequest request)
    {
        var pfn = request.From;
        if (pfn >= memory.Pages)
        {
            // The kernel formats this text in a local buffer: command_tmp keeps its content.
            Reply(LinuxReplyCode.Error, request.Sequence, 0, Encoding.ASCII.GetBytes($"page {pfn:x8} is bigger than max page # {memory.Pages:x8}!\n"));
            return true;
        }

        if (!memory.IsRam(pfn))
        {
            Reply(LinuxReplyCode.Reserved, request.Sequence, memory.NextRam(pfn), []);
            return true;
        }

        if (options.DieAfterPages is { } limit && pagesSent >= limit)
        {
            return false;
        }

        memory.ReadPage(pfn, page);
        for (var offset = 0; offset < page.Length; offset += LinuxReplyHeader.MemChunk)
        {
            Add(LinuxReplyCode.Mem, request.Sequence, (uint)offset, page.AsSpan(offset, LinuxReplyHeader.MemChunk));
        }

        Flush();
        pagesSent++;
        if (pagesSent == 1)
        {
            Report($"memory: first page requested (pfn 0x{pfn:x})");
        }

        return true;
    }

    /// <summary><c>platform_get_regs</c>: the preamble then the gregset, written into command_tmp.</summary>
    private ReadOnlySpan<byte> Registers()
    {
        var preamble = Text(LinuxRegisters.Preamble).Length;
        var gregs = machine.Gregset();
        gregs.CopyTo(commandText, preamble);
        return commandText.AsSpan(0, preamble + gregs.Length);
    }

    /// <summary>
    /// What <c>show_regs</c>, <c>show_state</c> and <c>show_mem</c> print: with netdump mode off
    /// for the while, so it leaves as console text before REPLY_SHOW_STATE.
    /// </summary>
    private void ShowState()
    {
        var ip = machine.WordSize == 8 ? "RIP" : "EIP";
        var width = machine.WordSize * 2;
        Printk("\n");
        Printk("Pid: 1, comm: swapper Not tainted 2.6.9-simulated\n");
        Printk($"{ip}: 0010:[<{machine.InstructionPointer.ToString($"x{width}")}>] simulated_panic+0x0/0x10\n");
        Printk("                                               sibling\n");
        Printk("  task             PC          pid father child younger older\n");
        Printk($"init          S {machine.TaskStruct.ToString($"x{width}")}     0     1      0     2               (NOTLB)\n");
        Printk($"ksoftirqd/0   S {(machine.TaskStruct + 0x2000).ToString($"x{width}")}     0     2      1             3       (L-TLB)\n");
        Printk("Mem-info:\n");
        Printk($"{memory.Pages} pages of RAM\n");
    }

    /// <summary>netconsole's <c>write_msg</c>: REPLY_LOG packets of at most 1000 bytes, nr 0, info the running offset, version 4.</summary>
    private void Printk(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        for (var done = 0; done < bytes.Length; done += ConsoleChunk)
        {
            var length = Math.Min(ConsoleChunk, bytes.Length - done);
            Add(LinuxReplyCode.Log, 0, consoleOffset, bytes.AsSpan(done, length), LinuxSimulatedClient.NetdumpVersion);
            consoleOffset += (uint)length;
        }
    }

    /// <summary><c>sprintf(tmp, ...)</c>: the text, NUL-terminated, at the start of command_tmp.</summary>
    private ReadOnlySpan<byte> Text(string text)
    {
        var length = Encoding.ASCII.GetBytes(text, commandText);
        commandText[length] = 0;
        return commandText.AsSpan(0, length);
    }

    /// <summary><c>strlen(tmp)</c>.</summary>
    private int CommandTextLength()
    {
        var nul = Array.IndexOf(commandText, (byte)0);
        return nul < 0 ? commandText.Length : nul;
    }
}
