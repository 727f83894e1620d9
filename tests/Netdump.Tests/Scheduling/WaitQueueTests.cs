using Netdump.Actors.Scheduling;
using Xunit;

namespace Netdump.Tests.Scheduling;

public sealed class WaitQueueTests
{
    [Fact]
    public void Items_come_out_in_order_and_after_Complete_the_rest_then_nothing()
    {
        var queue = new WaitQueue<int>();
        Assert.True(queue.Add(1));
        Assert.True(queue.Add(2));
        queue.Complete();

        Assert.False(queue.Add(3));
        Assert.True(queue.Take(out var a));
        Assert.True(queue.Take(out var b));
        Assert.False(queue.Take(out _));
        Assert.Equal((1, 2), (a, b));
    }

    [Fact]
    public void Items_it_prefers_come_out_first_then_the_rest_in_order()
    {
        var queue = new WaitQueue<int>(first: n => n % 2 == 0);
        foreach (var n in new[] { 1, 3, 4, 5, 6 })
        {
            queue.Add(n);
        }

        queue.Complete();
        var taken = new List<int>();
        while (queue.Take(out var n))
        {
            taken.Add(n);
        }

        Assert.Equal([4, 6, 1, 3, 5], taken);
    }

    [Fact]
    public async Task Waiting_threads_wake_for_items_and_for_Complete()
    {
        var queue = new WaitQueue<string>();
        var taken = Task.Factory.StartNew(() =>
        {
            var items = new List<string>();
            while (queue.Take(out var item))
            {
                items.Add(item);
            }

            return items;
        }, TaskCreationOptions.LongRunning);
        var idle = new WaitQueue<string>();
        var woken = Task.Factory.StartNew(() => idle.Take(out _), TaskCreationOptions.LongRunning);

        queue.Add("one");
        queue.Add("two");
        queue.Complete();
        idle.Complete();

        Assert.Equal(["one", "two"], await taken);
        Assert.False(await woken);
    }
}
