namespace Netdump.Tests.EndToEnd;

/// <summary>
/// SPEC §3: "the directory and an empty vmcore-incomplete exist from the moment the HERALD is
/// accepted". The reports' reserved files are made just after the ack (issue 19), so only the
/// directory and the core are promised by then.
/// </summary>
public sealed class HeraldAckTests : IAsyncLifetime
{
    private const string Client = "127.0.0.35";

    private ServerHarness _server = null!;

    public async Task InitializeAsync() => _server = await ServerHarness.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void The_dump_directory_and_its_empty_core_exist_when_the_herald_is_acked()
    {
        using var socket = RawClient.Bind(Client);
        RawClient.Herald(socket, _server.Endpoint); // returns with the ack

        var dir = _server.SingleDumpOf(Client);
        Assert.Equal(0, new FileInfo(Path.Combine(dir, "vmcore-incomplete")).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
    }
}
