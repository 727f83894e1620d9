using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>Which complete dumps the start-up scan hands to storage care, from their dump.json alone.</summary>
public sealed class CareBacklogTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static bool Waits(string dir, CareSteps steps = CareSteps.None) =>
        CareBacklog.Waits(dir, ReportOf(dir), steps);

    private static System.Text.Json.JsonElement ReportOf(string dir) =>
        Assert.IsType<JsonRead.Parsed>(DumpTree.ReadJson(new FileInfo(Path.Combine(dir, DumpReport.JsonFileName)))).Json;

    [Fact]
    public void A_complete_dump_with_its_checksum_waits_only_for_compression_when_that_is_on()
    {
        var (dir, _) = CoreCompressionTests.CompleteDump(_temp.Combine("192.0.2.7-2024-03-09-14:05:07"), 8192);

        Assert.False(Waits(dir));
        Assert.True(Waits(dir, CareSteps.Compress));
        Assert.False(Waits(dir, CareSteps.Decrypt), "not encrypted");

        CoreCompression.Run(DumpRecordReader.Read(dir, out _)!, workers: 0, CancellationToken.None);
        Assert.False(Waits(dir, CareSteps.Compress), "compressed already");
    }

    [Fact]
    public void A_complete_dump_without_its_checksum_waits_and_an_incomplete_one_never_does()
    {
        var (dir, _) = CoreCompressionTests.CompleteDump(_temp.Combine("192.0.2.8-2024-03-09-14:05:07"), 8192);
        var record = DumpRecordReader.Read(dir, out _)!;

        DumpReport.Write(record with { Sha256 = null });
        Assert.True(Waits(dir));

        DumpReport.Write(record with { Sha256 = null, Status = DumpStatus.Incomplete, Reason = EndReason.ServerStopped("test") });
        Assert.False(Waits(dir));
        Assert.False(Waits(dir, CareSteps.Decrypt | CareSteps.Compress));
    }
}
