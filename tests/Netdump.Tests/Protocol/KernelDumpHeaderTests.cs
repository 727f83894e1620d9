using System.Buffers.Binary;
using System.Text;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Protocol;

public sealed class KernelDumpHeaderTests
{
    // Bytes 0..64 of the sample header, field by field (struct kerneldumpheader, version 4).
    private const string SampleHeadHex =
        "46726565425344204B65726E656C2044756D7000" + // magic[20] "FreeBSD Kernel Dump\0"
        "616D643634000000" + "00000000" + // architecture[12] "amd64"
        "00000004" + // version @32
        "00000002" + // architectureversion @36
        "0000000123456000" + // dumplength @40 (needs all 64 bits)
        "000000006553F100" + // dumptime @48: 1700000000 = 2023-11-14T22:13:20Z
        "00001000" + // dumpkeysize @56
        "00001000"; // blocksize @60

    private const string SampleHostname = "web-01.example.org";
    private const string SampleVersionString = "FreeBSD 14.1-RELEASE releng/14.1-n267679-10e31f0946d8 GENERIC\n";
    private const string SamplePanicString = "page fault while in kernel mode";
    private const ulong SampleDumpExtent = 0x0000000123456789UL;

    /// <summary>
    /// Builds the sample header by hand at the documented offsets, without the codec's
    /// <see cref="KernelDumpHeader.Write"/>, and sets the parity word so all 128 words XOR to 0.
    /// </summary>
    private static byte[] SampleHeader(Action<byte[]>? tweak = null, bool fixParity = true)
    {
        var h = new byte[KernelDumpHeader.Size];
        Convert.FromHexString(SampleHeadHex).CopyTo(h, 0);
        Encoding.ASCII.GetBytes(SampleHostname).CopyTo(h, 64);
        Encoding.ASCII.GetBytes(SampleVersionString).CopyTo(h, 128);
        Encoding.ASCII.GetBytes(SamplePanicString).CopyTo(h, 320);
        h[495] = 2; // zstd
        BinaryPrimitives.WriteUInt64BigEndian(h.AsSpan(496), SampleDumpExtent);
        tweak?.Invoke(h);
        if (fixParity)
        {
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(508), 0);
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(508), XorOfWords(h));
        }

        return h;
    }

    /// <summary>The test's own parity: XOR of the 128 big-endian 32-bit words.</summary>
    private static uint XorOfWords(byte[] h)
    {
        uint parity = 0;
        for (var i = 0; i < 512; i += 4)
        {
            parity ^= (uint)(h[i] << 24 | h[i + 1] << 16 | h[i + 2] << 8 | h[i + 3]);
        }

        return parity;
    }

    private static (bool Ok, KernelDumpHeader? Header, string? Reason) Parse(byte[] payload)
    {
        KernelDumpHeader? header = null;
        string? reason = null;
        var ok = false;
        var thrown = Record.Exception(() => ok = KernelDumpHeader.TryParse(payload, out header, out reason));
        Assert.Null(thrown);
        Assert.True(ok ? header is not null && reason is null : header is null && !string.IsNullOrWhiteSpace(reason));
        return (ok, header, reason);
    }

    private static KernelDumpHeader Sample => new(
        "FreeBSD Kernel Dump",
        "amd64",
        4,
        2,
        0x0000000123456000UL,
        1700000000,
        4096,
        4096,
        SampleHostname,
        SampleVersionString.TrimEnd(),
        SamplePanicString,
        DumpCompression.Zstd,
        SampleDumpExtent,
        0);

    [Fact]
    public void Hand_built_header_has_a_parity_word_that_makes_all_words_xor_to_zero()
    {
        var h = SampleHeader();

        Assert.Equal(0u, XorOfWords(h));
        Assert.Equal(0u, KernelDumpHeader.ComputeParity(h));
    }

    [Fact]
    public void Parity_of_a_literal_minimal_header_is_the_xor_of_its_words()
    {
        // Nonzero words: "Free" 46726565, "BSD " 42534420, "Kern" 4B65726E, "el D" 656C2044,
        // "ump\0" 756D7000 and the version 00000004; their XOR is 5F45036B.
        var h = new byte[512];
        Convert.FromHexString("46726565425344204B65726E656C2044756D7000").CopyTo(h, 0);
        h[35] = 4;

        Assert.Equal(0x5F45036Bu, KernelDumpHeader.ComputeParity(h));

        Convert.FromHexString("5F45036B").CopyTo(h, 508);
        Assert.Equal(0u, KernelDumpHeader.ComputeParity(h));
        var (ok, header, _) = Parse(h);
        Assert.True(ok);
        Assert.True(header!.ParityOk);
        Assert.Equal(0x5F45036Bu, header.Parity);
        Assert.Equal(DumpCompression.None, header.Compression);
        Assert.Equal(string.Empty, header.Hostname);
    }

    [Fact]
    public void Hand_built_header_parses_every_field_at_its_documented_offset()
    {
        var bytes = SampleHeader();

        var (ok, header, reason) = Parse(bytes);

        Assert.True(ok, reason);
        Assert.NotNull(header);
        Assert.Equal("FreeBSD Kernel Dump", header.Magic);
        Assert.Equal("amd64", header.Architecture);
        Assert.Equal(4u, header.Version);
        Assert.Equal(2u, header.ArchitectureVersion);
        Assert.Equal(0x0000000123456000UL, header.DumpLength);
        Assert.Equal(1700000000UL, header.DumpTime);
        Assert.Equal(4096u, header.DumpKeySize);
        Assert.Equal(4096u, header.BlockSize);
        Assert.Equal(SampleHostname, header.Hostname);
        Assert.Equal("FreeBSD 14.1-RELEASE releng/14.1-n267679-10e31f0946d8 GENERIC", header.VersionString);
        Assert.Equal(SamplePanicString, header.PanicString);
        Assert.Equal(DumpCompression.Zstd, header.Compression);
        Assert.Equal(0x0000000123456789UL, header.DumpExtent);
        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(508)), header.Parity);
        Assert.True(header.ParityOk);
        Assert.Equal(new DateTimeOffset(2023, 11, 14, 22, 13, 20, TimeSpan.Zero), header.DumpTimeUtc);
        Assert.Equal(Sample with { Parity = header.Parity }, header);
    }

    [Fact]
    public void Write_produces_exactly_the_hand_built_bytes()
    {
        var expected = SampleHeader();
        var written = new byte[KernelDumpHeader.Size];

        Sample.Write(written);

        // The versionstring's "\n" is trimmed by the parser, so the record cannot carry it back.
        var expectedWithoutNewline = SampleHeader(h => h[128 + SampleVersionString.Length - 1] = 0);
        Assert.Equal(Convert.ToHexString(expectedWithoutNewline), Convert.ToHexString(written));
        Assert.Equal(SampleHeadHex, Convert.ToHexString(written, 0, 64));
        Assert.NotEqual(expected, written);
    }

    [Fact]
    public void Strings_are_trimmed_at_their_first_nul_and_garbage_after_it_is_ignored()
    {
        var bytes = SampleHeader(h =>
        {
            Encoding.ASCII.GetBytes("amd64\0junk!").CopyTo(h, 20);
            Encoding.ASCII.GetBytes("db1\0stale-hostname-from-a-previous-boot").CopyTo(h, 64);
            Encoding.ASCII.GetBytes("panic: x\0\x01\x02\xff").CopyTo(h, 320);
        });

        var (ok, header, _) = Parse(bytes);

        Assert.True(ok);
        Assert.Equal("amd64", header!.Architecture);
        Assert.Equal("db1", header.Hostname);
        Assert.Equal("panic: x", header.PanicString);
        Assert.True(header.ParityOk);
    }

    [Fact]
    public void Trailing_whitespace_before_the_nul_is_trimmed()
    {
        var bytes = SampleHeader(h =>
        {
            Encoding.ASCII.GetBytes("host \t\r\n\0").CopyTo(h, 64);
            Encoding.ASCII.GetBytes("sleeping thread 0xfffff8 owns a nonsleepable lock\n\0").CopyTo(h, 320);
        });

        var (_, header, _) = Parse(bytes);

        Assert.Equal("host", header!.Hostname);
        Assert.Equal("sleeping thread 0xfffff8 owns a nonsleepable lock", header.PanicString);
        Assert.Equal("FreeBSD 14.1-RELEASE releng/14.1-n267679-10e31f0946d8 GENERIC", header.VersionString);
    }

    [Fact]
    public void Strings_that_fill_their_whole_field_without_a_nul_are_read_to_the_field_end()
    {
        var bytes = SampleHeader(h =>
        {
            h.AsSpan(20, 12).Fill((byte)'a');
            h.AsSpan(64, 64).Fill((byte)'h');
            h.AsSpan(128, 192).Fill((byte)'v');
            h.AsSpan(320, 175).Fill((byte)'p');
        });

        var (ok, header, _) = Parse(bytes);

        Assert.True(ok);
        Assert.Equal(new string('a', 12), header!.Architecture);
        Assert.Equal(new string('h', 64), header.Hostname);
        Assert.Equal(new string('v', 192), header.VersionString);
        Assert.Equal(new string('p', 175), header.PanicString);
        Assert.Equal(DumpCompression.Zstd, header.Compression);
    }

    [Fact]
    public void Header_with_a_parity_failure_still_parses_with_ParityOk_false()
    {
        var bytes = SampleHeader();
        bytes[100] ^= 0x01; // one flipped bit in the hostname's tail

        var (ok, header, reason) = Parse(bytes);

        Assert.True(ok, reason);
        Assert.False(header!.ParityOk);
        Assert.Equal(SampleHostname, header.Hostname);
        Assert.Equal(0x01000000u, KernelDumpHeader.ComputeParity(bytes)); // byte 100 is the top byte of word 25
    }

    [Fact]
    public void Header_with_a_zeroed_parity_word_fails_its_parity_check()
    {
        var bytes = SampleHeader(h => h.AsSpan(508, 4).Clear(), fixParity: false);

        var (ok, header, _) = Parse(bytes);

        Assert.True(ok);
        Assert.False(header!.ParityOk);
        Assert.Equal(0u, header.Parity);
    }

    [Fact]
    public void Unused_word_takes_part_in_the_parity()
    {
        var bytes = SampleHeader();
        bytes[504] = 0x80;

        var (_, header, _) = Parse(bytes);

        Assert.False(header!.ParityOk);
        Assert.True(Parse(SampleHeader(h => h[504] = 0x80)).Header!.ParityOk);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(24)]
    [InlineData(511)]
    public void Header_shorter_than_512_bytes_gives_a_reason(int size)
    {
        var (ok, header, reason) = Parse(SampleHeader()[..size]);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains(size.ToString(), reason);
        Assert.Contains("512", reason);
    }

    [Theory]
    [InlineData("Cleared Kernel Dump")]
    [InlineData("FreeBSD Kernel Dum")]
    [InlineData("freebsd kernel dump")]
    [InlineData("")]
    [InlineData("Linux Kernel Dump")]
    [InlineData("FreeBSD Kernel Dump ")] // found by fuzzing: a space where the NUL belongs once passed
    [InlineData("FreeBSD Text Dump \0")]
    public void Header_with_a_wrong_magic_gives_a_reason(string magic)
    {
        var bytes = SampleHeader(h =>
        {
            h.AsSpan(0, 20).Clear();
            Encoding.ASCII.GetBytes(magic).CopyTo(h, 0);
        });

        var (ok, header, reason) = Parse(bytes);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("magic", reason);
    }

    [Fact]
    public void Header_with_garbage_magic_gives_a_printable_reason()
    {
        var bytes = SampleHeader(h => Convert.FromHexString("1B5B324A0A0D07FF00C3284142434445464748").CopyTo(h, 0));

        var (ok, header, reason) = Parse(bytes);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("magic", reason);
        Assert.DoesNotContain(reason!, char.IsControl);
    }

    [Fact]
    public void Text_dump_magic_is_accepted()
    {
        var bytes = SampleHeader(h =>
        {
            h.AsSpan(0, 20).Clear();
            Convert.FromHexString("4672656542534420546578742044756D70").CopyTo(h, 0); // "FreeBSD Text Dump"
        });

        var (ok, header, reason) = Parse(bytes);

        Assert.True(ok, reason);
        Assert.Equal(KernelDumpHeader.TextDumpMagic, header!.Magic);
        Assert.True(header.ParityOk);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(3u)]
    [InlineData(5u)]
    [InlineData(0x04000000u)] // version 4 written little-endian
    public void Header_with_a_version_other_than_4_gives_a_reason(uint version)
    {
        var bytes = SampleHeader(h => BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(32), version));

        var (ok, header, reason) = Parse(bytes);

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains($"version {version}", reason);
    }

    [Theory]
    [InlineData(0, DumpCompression.None)]
    [InlineData(1, DumpCompression.Gzip)]
    [InlineData(2, DumpCompression.Zstd)]
    public void Known_compression_codes_are_read_from_byte_495(byte code, DumpCompression compression)
    {
        var (ok, header, _) = Parse(SampleHeader(h => h[495] = code));

        Assert.True(ok);
        Assert.Equal(compression, header!.Compression);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void Header_with_an_unknown_compression_gives_a_reason(byte code)
    {
        var (ok, header, reason) = Parse(SampleHeader(h => h[495] = code));

        Assert.False(ok);
        Assert.Null(header);
        Assert.Contains("compression", reason);
        Assert.Contains(code.ToString(), reason);
    }

    [Theory]
    [InlineData(513)]
    [InlineData(1448)]
    [InlineData(4096)]
    public void Payload_longer_than_512_bytes_parses_its_first_512(int size)
    {
        var payload = new byte[size];
        payload.AsSpan().Fill(0xA5);
        SampleHeader().CopyTo(payload, 0);

        var (ok, header, reason) = Parse(payload);

        Assert.True(ok, reason);
        Assert.True(header!.ParityOk);
        Assert.Equal(Parse(SampleHeader()).Header, header);
    }

    [Fact]
    public void Written_header_parses_back_equal_with_parity_ok()
    {
        var written = Sample with { Compression = DumpCompression.Gzip, DumpKeySize = 0, Magic = KernelDumpHeader.TextDumpMagic };
        var buffer = new byte[KernelDumpHeader.Size];
        written.Write(buffer);

        var (ok, read, reason) = Parse(buffer);

        Assert.True(ok, reason);
        Assert.True(read!.ParityOk);
        Assert.Equal(0u, KernelDumpHeader.ComputeParity(buffer));
        Assert.Equal(written with { Parity = read.Parity }, read);
    }

    [Fact]
    public void Written_header_with_extreme_integers_parses_back_equal()
    {
        var written = Sample with
        {
            ArchitectureVersion = uint.MaxValue,
            DumpLength = ulong.MaxValue,
            DumpTime = ulong.MaxValue,
            DumpKeySize = uint.MaxValue,
            BlockSize = 0,
            DumpExtent = 0x8000000000000001UL,
            Hostname = string.Empty,
            VersionString = string.Empty,
            PanicString = string.Empty,
            Compression = DumpCompression.None,
        };
        var buffer = new byte[KernelDumpHeader.Size];
        written.Write(buffer);

        var (ok, read, _) = Parse(buffer);

        Assert.True(ok);
        Assert.True(read!.ParityOk);
        Assert.Equal(written with { Parity = read.Parity }, read);
    }

    [Fact]
    public void Write_ignores_the_parity_property_and_computes_its_own()
    {
        var buffer = new byte[KernelDumpHeader.Size];

        (Sample with { Parity = 0xDEADBEEF }).Write(buffer);

        Assert.Equal(0u, KernelDumpHeader.ComputeParity(buffer));
        Assert.Equal(XorOfWords(SampleHeader(h => h[128 + SampleVersionString.Length - 1] = 0, fixParity: false)), BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(508)));
    }

    [Fact]
    public void Write_clears_stale_bytes_and_leaves_the_rest_of_the_buffer_alone()
    {
        var buffer = new byte[600];
        buffer.AsSpan().Fill(0xEE);

        Sample.Write(buffer);

        Assert.Equal(0, buffer[19]); // magic's NUL
        Assert.Equal(0, buffer[64 + SampleHostname.Length]);
        Assert.Equal(0, buffer[504]); // unused
        Assert.All(buffer[512..], b => Assert.Equal(0xEE, b));
        Assert.Equal(Sample with { Parity = Parse(buffer).Header!.Parity }, Parse(buffer).Header);
    }

    [Fact]
    public void Write_cuts_strings_longer_than_their_field_and_keeps_a_nul()
    {
        var written = Sample with
        {
            Architecture = new string('a', 40),
            Hostname = new string('h', 100),
            VersionString = new string('v', 300),
            PanicString = new string('p', 200),
        };
        var buffer = new byte[KernelDumpHeader.Size];
        written.Write(buffer);

        var (ok, read, _) = Parse(buffer);

        Assert.True(ok);
        Assert.True(read!.ParityOk);
        Assert.Equal(new string('a', 11), read.Architecture);
        Assert.Equal(new string('h', 63), read.Hostname);
        Assert.Equal(new string('v', 191), read.VersionString);
        Assert.Equal(new string('p', 174), read.PanicString);
        Assert.Equal(DumpCompression.Zstd, read.Compression); // byte 495 not overrun by the panic string
    }

    [Fact]
    public void Write_cuts_a_long_string_between_utf8_characters_not_inside_one()
    {
        // 62 ASCII bytes then "é" (C3 A9): the 63-byte limit falls inside the "é".
        var written = Sample with { Hostname = new string('h', 62) + "é" };
        var buffer = new byte[KernelDumpHeader.Size];
        written.Write(buffer);

        var (ok, read, _) = Parse(buffer);

        Assert.True(ok);
        Assert.Equal(0, buffer[64 + 62]);
        Assert.Equal(new string('h', 62), read!.Hostname);
        Assert.True(read.ParityOk);
    }

    [Fact]
    public void Written_multibyte_strings_that_fit_parse_back_equal()
    {
        var written = Sample with { Hostname = "höst-ü", PanicString = "panic: 💥 at €" };
        var buffer = new byte[KernelDumpHeader.Size];
        written.Write(buffer);

        Assert.Equal(written with { Parity = Parse(buffer).Header!.Parity }, Parse(buffer).Header);
    }

    [Fact]
    public void Invalid_utf8_in_a_string_field_parses_without_throwing()
    {
        var bytes = SampleHeader(h => Convert.FromHexString("68FFC3" + "00").CopyTo(h, 64));

        var (ok, header, _) = Parse(bytes);

        Assert.True(ok);
        Assert.StartsWith("h", header!.Hostname);
        Assert.True(header.ParityOk);
    }

    [Theory]
    [InlineData(0UL, "1970-01-01T00:00:00+00:00")]
    [InlineData(1700000000UL, "2023-11-14T22:13:20+00:00")]
    [InlineData(253402300799UL, "9999-12-31T23:59:59+00:00")]
    public void DumpTimeUtc_is_seconds_since_the_epoch(ulong seconds, string expected)
    {
        var header = Sample with { DumpTime = seconds };

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), header.DumpTimeUtc);
        Assert.Equal(TimeSpan.Zero, header.DumpTimeUtc.Offset);
    }

    [Theory]
    [InlineData(253402300800UL)]
    [InlineData(0x7FFFFFFFFFFFFFFFUL)]
    [InlineData(0x8000000000000000UL)] // negative if cast to long first
    [InlineData(ulong.MaxValue)]
    public void DumpTimeUtc_clamps_times_past_year_9999_without_throwing(ulong seconds)
    {
        var header = Sample with { DumpTime = seconds };
        var time = default(DateTimeOffset);

        Assert.Null(Record.Exception(() => time = header.DumpTimeUtc));
        Assert.Equal(DateTimeOffset.MaxValue, time);
    }

    [Fact]
    public void DumpTimeUtc_of_a_parsed_literal_huge_dumptime_is_clamped()
    {
        var bytes = SampleHeader(h => Convert.FromHexString("FFFFFFFFFFFFFFFF").CopyTo(h, 48));

        var (ok, header, _) = Parse(bytes);

        Assert.True(ok);
        Assert.Equal(ulong.MaxValue, header!.DumpTime);
        Assert.Equal(DateTimeOffset.MaxValue, header.DumpTimeUtc);
    }
}
