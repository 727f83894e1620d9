namespace Netdump.Tests;

/// <summary>Waits, polling, for something a test cannot be told about (a file a server process makes).</summary>
internal static class Waiting
{
    /// <summary>Returns once <paramref name="condition"/> holds; fails the test naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task Until(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting: {what}");
            await Task.Delay(20);
        }
    }
}
