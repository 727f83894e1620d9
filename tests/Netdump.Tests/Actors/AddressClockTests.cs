using System.Net;
using Netdump.Actors;

namespace Netdump.Tests.Actors;

/// <summary>At most once per interval per address: a refused client's reboot (every 5 s), netdump-start (every minute).</summary>
public sealed class AddressClockTests
{
    [Fact]
    public void An_address_gets_one_turn_per_interval_and_others_their_own()
    {
        var clock = new AddressClock(TimeSpan.FromHours(1));
        var a = IPAddress.Parse("192.0.2.1");

        Assert.True(clock.TryTake(a));
        Assert.False(clock.TryTake(a));              // a client repeating its START every second
        Assert.True(clock.TryTake(IPAddress.Parse("192.0.2.2")));
    }

    [Fact]
    public void Once_the_interval_is_over_the_address_gets_its_turn_again()
    {
        var clock = new AddressClock(TimeSpan.Zero);
        var a = IPAddress.Parse("192.0.2.1");

        Assert.True(clock.TryTake(a));
        Assert.True(clock.TryTake(a));
    }

    [Fact]
    public void Many_addresses_are_remembered_only_while_their_interval_runs()
    {
        var clock = new AddressClock(TimeSpan.FromHours(1));
        for (var i = 0; i < 5000; i++)
        {
            Assert.True(clock.TryTake(new IPAddress([10, 0, (byte)(i >> 8), (byte)i])));
        }

        Assert.False(clock.TryTake(new IPAddress([10, 0, 0, 0]))); // still within its hour: not forgotten
    }
}
