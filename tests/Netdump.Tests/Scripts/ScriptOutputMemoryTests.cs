using Akka.Event;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Scripts;
using Xunit.Abstractions;

namespace Netdump.Tests.Scripts;

/// <summary>
/// What a script's output costs the server's memory. It counts every byte the process
/// allocates, so it runs alone: no other test's allocations are counted with the script's.
/// </summary>
[Collection(RunsAloneCollection.Name)]
public sealed class ScriptOutputMemoryTests : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const string Client = "192.0.2.7";
    private const int LineBytes = 32 * 1024 * 1024;

    private readonly ScriptFolder _folder = new();

    public ScriptOutputMemoryTests(ITestOutputHelper output) : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
    }

    void IDisposable.Dispose()
    {
        _folder.Dispose();
        Dispose();
    }

    [Fact]
    public void A_script_printing_one_32_MiB_line_costs_the_server_far_less_than_32_MiB()
    {
        // The attack of issue 13 in small: one line with no end in sight, on both streams. Read
        // line by line, each would become a string of 64 MiB (UTF-16) after a builder's worth
        // of copies; read in bounded chunks, it costs the same few buffers however long it is.
        _folder.Write(ScriptNames.Reboot, $"""
            head -c {LineBytes} /dev/zero | tr '\0' x
            head -c {LineBytes} /dev/zero | tr '\0' y >&2
            """);
        var log = CreateTestProbe();
        Sys.EventStream.Subscribe(log.Ref, typeof(Warning));
        var runner = Sys.ActorOf(ScriptRunnerActor.Props(_folder.DumpDirectory));
        var run = new ScriptRunnerActor.Run(Script.Reboot, [Client, "/var/crash/x"], new Dictionary<string, string>(), TimeSpan.FromSeconds(20), Client);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        runner.Tell(run, TestActor);
        var result = ExpectMsg<ScriptResult>(TimeSpan.FromSeconds(25));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // Exited by itself: the pipes were drained while it wrote, so it never blocked on one.
        Assert.True(result.ExitedZero, result.ToString());
        Assert.True(allocated < LineBytes / 4, $"running the script allocated {allocated} bytes");
        var note = log.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("output cut"), TimeSpan.FromSeconds(3));
        Assert.Contains($"output cut: {(2L * LineBytes) - 2048} of {2L * LineBytes} bytes not logged (2 lines cut to 1024 bytes", note.Message.ToString());
    }
}
