using System.Globalization;
using System.Text;

namespace Netdump.Actors.Protocol.Linux;

/// <summary>
/// The payload of REPLY_START_NETDUMP, this dialect's HERALD:
/// <c>"task_struct:0x… page_offset:0x… netdump_magic:0x…\n"</c> (RHEL4
/// <c>netdump_startup_handshake</c>), with the machine type (ELF <c>e_machine</c>) from the
/// header's sequence field and the client's highest version from <c>info</c>.
/// </summary>
public sealed record LinuxStart(ushort Machine, uint MaxVersion, ulong TaskStruct, ulong PageOffset, ulong Magic)
{
    /// <summary>The longest START payload read; the kernel's buffer is 200 bytes.</summary>
    public const int MaxPayload = 256;

    /// <summary>Parses a START; a payload that does not follow the format gives the reason.</summary>
    public static bool TryParse(LinuxReplyHeader header, ReadOnlySpan<byte> payload, out LinuxStart? start, out string? problem)
    {
        start = null;
        if (header.Code != LinuxReplyCode.StartNetdump)
        {
            problem = $"not a START ({header.Code})";
            return false;
        }

        if (header.Sequence is 0 or > ushort.MaxValue)
        {
            problem = $"machine type {header.Sequence} is not an ELF machine";
            return false;
        }

        if (payload.Length > MaxPayload)
        {
            problem = $"START payload of {payload.Length} bytes (at most {MaxPayload})";
            return false;
        }

        ulong? task = null, pageOffset = null, magic = null;
        foreach (var field in Encoding.ASCII.GetString(payload).Split([' ', '\n', '\0'], StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = field.IndexOf(':');
            if (colon < 0 || !TryHex(field[(colon + 1)..], out var value))
            {
                problem = "START payload is not \"name:0xHEX\" fields";
                return false;
            }

            switch (field[..colon])
            {
                case "task_struct":
                    task = value;
                    break;
                case "page_offset":
                    pageOffset = value;
                    break;
                case "netdump_magic":
                    magic = value;
                    break;
            }
        }

        if (task is null || pageOffset is null || magic is null)
        {
            problem = "START payload lacks task_struct, page_offset or netdump_magic";
            return false;
        }

        start = new LinuxStart((ushort)header.Sequence, header.Info, task.Value, pageOffset.Value, magic.Value);
        problem = null;
        return true;
    }

    /// <summary>The payload as the kernel writes it.</summary>
    public byte[] Payload() => Encoding.ASCII.GetBytes(
        $"task_struct:0x{TaskStruct:x} page_offset:0x{PageOffset:x} netdump_magic:0x{Magic:x}\n");

    private static bool TryHex(string text, out ulong value)
    {
        value = 0;
        return text.StartsWith("0x", StringComparison.Ordinal) && TryHexDigits(text.AsSpan(2), out value);
    }

    /// <summary>1 to 16 hex digits as a 64-bit number (a magic as the kernel prints it, or as its magic file holds it).</summary>
    public static bool TryHexDigits(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        return digits.Length is > 0 and <= 16
            && ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}

/// <summary>
/// The payload of REPLY_REGS: <c>"Sending register info.\n"</c> then the raw <c>elf_gregset_t</c>
/// of the crashing CPU in the client's byte order (RHEL4 <c>platform_get_regs</c>).
/// </summary>
public static class LinuxRegisters
{
    public const string Preamble = "Sending register info.\n";

    /// <summary>The <c>elf_gregset_t</c> size of a machine, or null for one whose layout is not known here.</summary>
    public static int? GregsetSize(ushort machine) => machine switch
    {
        ElfMachine.I386 => 17 * 4,
        ElfMachine.X86_64 => 27 * 8,
        _ => null,
    };

    /// <summary>The register bytes after the preamble; false when the preamble is missing or the size does not fit the machine.</summary>
    public static bool TryRead(ushort machine, ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> gregs, out string? problem)
    {
        gregs = default;
        if (!payload.StartsWith(Encoding.ASCII.GetBytes(Preamble)))
        {
            problem = "REPLY_REGS without \"Sending register info.\"";
            return false;
        }

        var rest = payload[Preamble.Length..];
        if (GregsetSize(machine) is { } size)
        {
            if (rest.Length != size && !(rest.Length > size && rest.IndexOf((byte)0) == rest.Length - size))
            {
                problem = $"REPLY_REGS of {rest.Length} register bytes where machine {machine} has {size}";
                return false;
            }

            // platform_get_regs copies the registers over the preamble's NUL and sends
            // strlen(preamble + registers) + their size: as many bytes more as the registers have
            // before their first zero byte, which the check above holds it to
            rest = rest[..size];
        }

        gregs = rest;
        problem = null;
        return true;
    }
}

/// <summary>The ELF machine numbers this server knows the register layout of.</summary>
public static class ElfMachine
{
    public const ushort I386 = 3;
    public const ushort X86_64 = 62;

    /// <summary>32-bit machines get an ELF32 core (crash: ELF32 for EM_386, EM_PPC, EM_ARM ...).</summary>
    public static bool Is32Bit(ushort machine) => machine is I386 or 20 /* PPC */ or 40 /* ARM */ or 8 /* MIPS */ or 2 /* SPARC */;
}
