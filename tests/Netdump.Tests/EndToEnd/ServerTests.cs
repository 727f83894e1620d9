namespace Netdump.Tests.EndToEnd;

/// <summary>
/// What the end-to-end classes that start their own server per test share: the server started
/// with a test's settings over the class's <see cref="Defaults"/>, and disposed after the test.
/// </summary>
public abstract class ServerTests : IAsyncLifetime
{
    private ServerHarness? _server;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await StopServerAsync();

    /// <summary>The settings every test of the class starts from (a test's own settings win).</summary>
    protected virtual Dictionary<string, object?> Defaults() => [];

    protected async Task<ServerHarness> Start(Dictionary<string, object?>? settings = null)
    {
        var keys = Defaults();
        foreach (var (key, value) in settings ?? [])
        {
            keys[key] = value;
        }

        return _server = await ServerHarness.StartAsync(keys);
    }

    /// <summary>Stops and removes the test's server now (a test whose dump directory goes away first).</summary>
    protected async Task StopServerAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }
}
