using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class ReceiveProgressTests
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_tick_measures_the_rate_over_the_last_tick_and_on_average_since_the_dump_opened()
    {
        var progress = new ReceiveProgress(LogInterval);

        Assert.True(progress.Tick(3_000_000, TimeSpan.FromSeconds(1)));
        Assert.Equal(new ReceiveRate(LastTick: 3_000_000, Average: 3_000_000), progress.Rate);

        Assert.True(progress.Tick(4_000_000, TimeSpan.FromSeconds(2)));
        Assert.Equal(new ReceiveRate(LastTick: 1_000_000, Average: 2_000_000), progress.Rate);

        // a late tick: the time that really passed counts, not the flush interval
        Assert.True(progress.Tick(7_000_000, TimeSpan.FromSeconds(3.5)));
        Assert.Equal(new ReceiveRate(LastTick: 2_000_000, Average: 2_000_000), progress.Rate);
    }

    [Fact]
    public void A_stalled_dump_is_a_change_once_then_not_again_until_data_arrives()
    {
        var progress = new ReceiveProgress(LogInterval);
        Assert.False(progress.Tick(0, TimeSpan.FromSeconds(1)), "nothing yet: nothing to report");
        Assert.True(progress.Tick(1000, TimeSpan.FromSeconds(2)));

        Assert.True(progress.Tick(1000, TimeSpan.FromSeconds(3)), "the rate fell to zero: reported once");
        Assert.Equal(0UL, progress.Rate.LastTick);
        Assert.False(progress.Tick(1000, TimeSpan.FromSeconds(4)));
        Assert.False(progress.Tick(1000, TimeSpan.FromSeconds(5)));

        Assert.True(progress.Tick(2000, TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public void A_progress_line_is_due_once_per_interval_with_the_rate_since_the_last_one()
    {
        var progress = new ReceiveProgress(LogInterval);

        Assert.Null(progress.LogDue(10_000, TimeSpan.FromSeconds(29)));
        Assert.Equal(1000UL, progress.LogDue(30_000, TimeSpan.FromSeconds(30)));
        Assert.Null(progress.LogDue(40_000, TimeSpan.FromSeconds(31)));
        Assert.Null(progress.LogDue(80_000, TimeSpan.FromSeconds(59)));
        Assert.Equal(2000UL, progress.LogDue(90_000, TimeSpan.FromSeconds(60)));
    }

    [Theory]
    [InlineData(0UL, 100UL, 10UL, 10UL)]
    [InlineData(95UL, 100UL, 10UL, 1UL)] // rounded up: not "0 s left" while bytes are missing
    [InlineData(120UL, 100UL, 10UL, 0UL)] // padding past the length
    public void The_time_left_is_the_missing_bytes_at_the_rate(ulong received, ulong length, ulong rate, ulong seconds)
    {
        Assert.Equal(seconds, ReceiveRate.SecondsLeft(received, length, rate));
    }

    [Fact]
    public void The_time_left_is_unknown_without_a_length_or_a_rate()
    {
        Assert.Null(ReceiveRate.SecondsLeft(10, length: null, bytesPerSecond: 10));
        Assert.Null(ReceiveRate.SecondsLeft(10, length: 100, bytesPerSecond: 0));
    }
}
