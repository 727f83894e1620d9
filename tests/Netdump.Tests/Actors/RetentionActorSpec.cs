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

    [Fact]
    public void RetentionActor_should_name_a_folder_it_leaves_alone_once_not_at_every_pass()
    {
        var folder = Path.Combine(_settings.DumpDirectory, "case-4711");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, DumpReport.JsonFileName), """{"status":"complete","client_ip":"192.0.2.7","received_at":"2024-06-01T10:00:00.000Z"}""");
        var dump = DumpTreeBuilder.Dump(_settings.DumpDirectory, "192.0.2.1", ReceivedAt);
        var clock = new ManualClock(ReceivedAt.AddMinutes(59));
        var log = CreateTestProbe();
        Sys.EventStream.Subscribe(log.Ref, typeof(Warning));

        Sys.ActorOf(RetentionActor.Props(_settings, clock));

        var named = log.ExpectMsg<Warning>(TimeSpan.FromSeconds(10));
        Assert.Contains($"Retention: {folder}: holds dump.json, but its name is not a dump directory's", named.ToString());

        // passes go on (the dump's removal, once old enough, shows that later passes ran), and none names the folder again
        clock.Now = ReceivedAt.AddHours(2);
        var later = new List<string>();
        log.FishForMessage<Warning>(
            w =>
            {
                later.Add(w.ToString()!);
                return w.ToString()!.Contains("Retention: removed", StringComparison.Ordinal);
            },
            TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(later, l => l.Contains(folder, StringComparison.Ordinal));
        Assert.False(Directory.Exists(dump));
        Assert.True(File.Exists(Path.Combine(folder, DumpReport.JsonFileName)));
    }

    void IDisposable.Dispose()
    {
        Shutdown();
        _temp.Dispose();
    }
}
