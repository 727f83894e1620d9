using System.Runtime.InteropServices;
using Akka.Actor;
using Netdump.Actors;
using Netdump.Actors.Protocol;
using Netdump.Actors.Storage;
using Netdump.Tests.EndToEnd;

namespace Netdump.Tests.Actors;

/// <summary>The FreeBSD client's KDH and EKCD key: kept, checked, stored, and what a bad or missing one makes of the dump.</summary>
public sealed partial class DumpWriterActorSpec
{
    [Fact]
    public async Task An_encrypted_dump_keeps_its_key_beside_vmcore_encrypted()
    {
        var (writer, opened) = await OpenDump();
        var key = Pattern(2000, seed: 7);
        var data = Pattern(1024);

        await StoreKeyAndExpectAck(writer, 0, key[..1448]);
        await StoreKeyAndExpectAck(writer, 1448, key[1448..]);
        WriteData(opened.Core, data, chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 1024, dumpKeySize: 2000));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.True(record.Encrypted);
        Assert.Equal("vmcore_encrypted", record.Vmcore);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(opened.Directory, "vmcore_encrypted")));
        var keyFile = Path.Combine(opened.Directory, "key");
        Assert.Equal(key, File.ReadAllBytes(keyFile));
        Assert.Equal(Mode0600, File.GetUnixFileMode(keyFile));
        var json = ReadJson(opened.Directory);
        Assert.True(json.GetProperty("encrypted").GetBoolean());
        Assert.Equal(2000UL, record.KeyBytesReceived);
        Assert.Equal(2000UL, json.GetProperty("key_bytes_received").GetUInt64());
        Assert.Equal(1024UL, json.GetProperty("bytes_received").GetUInt64());
        Assert.Contains("  Key: 2000 of 2000 bytes received, in key", File.ReadAllLines(Path.Combine(opened.Directory, "info")));
    }

    [Fact]
    public async Task A_key_whose_first_packet_never_arrived_is_incomplete_and_so_is_the_dump()
    {
        var (writer, opened) = await OpenDump();
        var data = Pattern(1024);

        await StoreKeyAndExpectAck(writer, 1448, Pattern(4096 - 1448, seed: 7)); // bytes 0-1447 lost
        WriteData(opened.Core, data, chunk: 1024);
        TellHeader(writer, Kdh(dumpLength: 1024, dumpKeySize: 4096));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("encryption key incomplete: 2648 of 4096 bytes received, bytes 0-1447 missing", record.Reason?.Text);
        Assert.Equal(CoreFileNames.Incomplete, record.Vmcore);
    }

    [Fact]
    public async Task An_encrypted_compressed_dump_is_named_vmcore_encrypted_with_the_compression_suffix()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);

        await StoreKeyAndExpectAck(writer, 0, Pattern(64, seed: 7));
        TellHeader(writer, Kdh(dumpLength: 1000, compression: DumpCompression.Zstd, dumpKeySize: 64));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.Equal("vmcore_encrypted.zst", record.Vmcore);
        Assert.Equal(1000, new FileInfo(Path.Combine(opened.Directory, "vmcore_encrypted.zst")).Length);
    }

    [Fact]
    public async Task A_key_beyond_max_key_size_is_not_acknowledged()
    {
        var (writer, opened) = await OpenDump();

        writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.EkcdKey, 4096, Pattern(16))));
        writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.EkcdKey, 4000, Pattern(200))));

        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.False(File.Exists(Path.Combine(opened.Directory, "key")));
    }

    [Fact]
    public async Task A_dump_without_a_kernel_dump_header_is_incomplete()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);

        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("no kernel dump header", record.Reason?.Text);
        Assert.Equal("vmcore-incomplete", record.Vmcore);
        Assert.Equal("Dump incomplete: no kernel dump header", LastInfoLine(opened.Directory));
    }

    [Fact]
    public async Task A_bad_kernel_dump_header_is_acknowledged_but_leaves_the_dump_incomplete()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(1024), chunk: 1024);

        TellHeader(writer, Kdh(dumpLength: 1024, magic: "Linux Kernel Dump"));
        var record = await FinishDump(writer, reason: null);

        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.StartsWith("bad kernel dump header", record.Reason?.Text);
        Assert.Null(record.Header);
        Assert.True(File.Exists(Path.Combine(opened.Directory, "vmcore-incomplete")));
    }

    [Fact]
    public async Task A_header_of_another_version_is_logged_with_the_client_and_makes_the_dump_incomplete()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(4096), 1024);
        var header = Kdh(dumpLength: 4096);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(32), 5);

        await EventFilter.Warning(contains: "127.0.0.9: bad kernel dump header: kernel dump header version 5, expected 4")
            .ExpectOneAsync(() => { TellHeader(writer, header); return Task.CompletedTask; });
        var record = await FinishDump(writer, null);
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal("bad kernel dump header: kernel dump header version 5, expected 4", record.Reason?.Text);
    }

    [Fact]
    public async Task A_header_with_bad_parity_is_recorded_and_logged_but_the_data_still_decides()
    {
        var (writer, opened) = await OpenDump();
        WriteData(opened.Core, Pattern(4096), 1024);
        var header = Kdh(dumpLength: 4096);
        header[508] ^= 0xff;

        await EventFilter.Warning(contains: "127.0.0.9: kernel dump header parity check failed")
            .ExpectOneAsync(() => { TellHeader(writer, header); return Task.CompletedTask; });
        var record = await FinishDump(writer, null);
        Assert.Equal(DumpStatus.Complete, record.Status);
        Assert.False(record.Header!.ParityOk);
        Assert.False(ReadJson(opened.Directory).GetProperty("parity_ok").GetBoolean());
        Assert.Contains("Header Parity Check: Fail", File.ReadAllText(Path.Combine(opened.Directory, "info")));
    }

    [Fact]
    public async Task A_header_that_claims_an_enormous_length_leaves_the_dump_incomplete_with_its_hole()
    {
        var writer = await ChildActorOfAsync(DumpWriterActor.Props(_settings, HeraldFor(""), _ => 10UL << 30));
        writer.Tell(DumpWriterActor.Open.Instance);
        var opened = await ExpectMsgAsync<DumpWriterActor.Opened>();
        WriteData(opened.Core, Pattern(4096), 1024);

        TellHeader(writer, Kdh(dumpLength: ulong.MaxValue - 7));
        writer.Tell(DumpWriterActor.CheckSpace.Instance);
        Assert.Equal(ulong.MaxValue, (await ExpectMsgAsync<DumpWriterActor.LowSpace>()).Needed); // saturated, not wrapped

        var record = await FinishDump(writer, null);
        Assert.Equal(DumpStatus.Incomplete, record.Status);
        Assert.Equal([new ByteRange(4096, ulong.MaxValue - 7)], record.Holes);
        Assert.Equal(4096, new FileInfo(opened.Core.Path).Length); // no sparse giant
    }

    [Fact]
    public async Task An_over_large_key_is_not_acked_and_is_logged_with_the_client()
    {
        var (writer, _) = await OpenDump(_settings with { MaxKeySize = 8192 });
        await EventFilter.Warning(contains: "127.0.0.9: encryption key bytes 8000-12096 exceed max_key_size 8192")
            .ExpectOneAsync(async () =>
            {
                writer.Tell(new DumpWriterActor.StoreKey(Control(MessageType.EkcdKey, 8000, Pattern(4096))));
                await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
            });
    }
}
