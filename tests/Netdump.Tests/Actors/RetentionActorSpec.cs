using Akka.Event;
using Netdump.Actors;
using Netdump.Actors.Configuration;
using Netdump.Actors.Storage;
using Netdump.Tests.Storage;
using Xunit.Abstractions;

namespace Netdump.Tests.Actors;

/// <summary>The server's periodic retention pass, with its clock in the test's hand and a short interval.</summary>
public sealed class RetentionActorSpec : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private static readonly DateTimeOffset ReceivedAt = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();
    private readonly NetdumpSettings _settings;

    public RetentionActorSpec(ITestOutputHelper output) : base(NetdumpSettings.BuiltInConfig(), output: output)
    {
        Directory.CreateDirectory(_temp.Combine("crash"));
        _settings = NetdumpSettings.Create(NetdumpSettings.BuiltInConfig()) with
        {
            DumpDirectory = _temp.Combine("crash"),
            Retention = new RetentionPolicy(0, TimeSpan.FromHours(1), null),
            RetentionInterval = TimeSpan.FromMilliseconds(100),
        };
    }

    [Fact]
    public void RetentionActor_should_remove_a_dump_once_a_later_pass_finds_it_old_enough_and_log_it()
    {
        var dump = DumpTreeBuilder.Dump(_settings.DumpDirectory, "192.0.2.1", ReceivedAt);
        var clock = new ManualClock(ReceivedAt.AddMinutes(59));
        var log = CreateTestProbe();
        Sys.EventStream.Subscribe(log.Ref, typeof(Warning));

        Sys.ActorOf(RetentionActor.Props(_settings, clock));

        // passes at 59 minutes leave it: younger than the hour every dump is kept
        log.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.True(Directory.Exists(dump));

        clock.Now = ReceivedAt.AddHours(2);
        var removed = log.FishForMessage<Warning>(w => w.ToString()!.Contains("Retention: removed", StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        Assert.Contains(dump, removed.ToString());
        Assert.Contains("older than max_age 1h", removed.ToString());
        Assert.False(Directory.Exists(dump));
        var line = Assert.Single(File.ReadAllLines(Path.Combine(_settings.DumpDirectory, RetentionRun.LogFileName)));
        Assert.StartsWith($"{ReceivedAt.AddHours(2).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\t{dump}\t", line);
    }

    void IDisposable.Dispose()
    {
        Shutdown();
        _temp.Dispose();
    }
}
