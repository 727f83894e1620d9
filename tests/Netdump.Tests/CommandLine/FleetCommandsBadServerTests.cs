using System.Net;
using System.Net.Sockets;
using System.Text;
using Netdump.Tests.App;

namespace Netdump.Tests.CommandLine;

/// <summary>
/// The fleet commands against something on the server's address that is not a well-behaved
/// netdump server (a restarting one, another program on the port): whatever it answers, the
/// command ends with one line of text on stderr and status 1, never a stack trace, a terminal
/// escape or all of the machine's memory. The answers come from a loopback socket that writes
/// canned HTTP responses, one per connection.
/// </summary>
public sealed class FleetCommandsBadServerTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public FleetCommandsBadServerTests() => _listener.Start();

    private string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    /// <summary>Answers the <paramref name="n"/>th request (from 0) with <paramref name="answer"/>(n), until stopped.</summary>
    private void Serve(Func<int, (int Status, string Body, long PaddingBytes)> answer) => _ = Task.Run(async () =>
    {
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            await ReadRequestAsync(stream);

            var (status, body, padding) = answer(n);
            var bytes = Encoding.UTF8.GetBytes(body);
            var head = $"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {bytes.Length + padding}\r\nConnection: close\r\n\r\n";
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
                await stream.WriteAsync(bytes, _stop.Token);
                var spaces = new byte[1 << 20];
                spaces.AsSpan().Fill((byte)' ');
                for (var left = padding; left > 0; left -= spaces.Length)
                {
                    await stream.WriteAsync(spaces.AsMemory(0, (int)Math.Min(left, spaces.Length)), _stop.Token);
                }
            }
            catch (IOException)
            {
                // the client stopped reading: what the test wants to see
            }
        }
    });

    /// <summary>Reads a request up to the end of its headers; returns them.</summary>
    private async Task<string> ReadRequestAsync(NetworkStream stream)
    {
        var request = new byte[8192];
        var read = 0;
        while (!Encoding.ASCII.GetString(request, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            read += await stream.ReadAsync(request.AsMemory(read), _stop.Token);
        }

        return Encoding.ASCII.GetString(request, 0, read);
    }

    private static void AssertOneCleanLine(ServerProcess run, string expected)
    {
        Assert.Equal(1, run.Process.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.StartsWith("netdump-server: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain(line, c => char.IsControl(c));
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // a Location relative to where it was said
    public async Task A_redirect_to_the_node_that_holds_a_dump_is_followed_with_the_token(bool absolute)
    {
        // a fleet's node answers for a dump another node holds with a 307 to that node's API; the
        // fleet shares one token, which HttpClient dropped on the redirect it followed itself
        var tokenFile = Path.Combine(Path.GetTempPath(), $"netdump-token-{Guid.NewGuid():N}");
        File.WriteAllText(tokenFile, "0123456789abcdef0123456789abcdef\n");
        var authorized = new List<bool>();
        _ = Task.Run(async () =>
        {
            for (var n = 0; n < 2; n++)
            {
                using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream);

                authorized.Add(request.Contains("Authorization: Bearer 0123456789abcdef0123456789abcdef", StringComparison.Ordinal)
                    && request.StartsWith(n == 0 ? "GET /api/dumps " : "GET /elsewhere/api/dumps ", StringComparison.Ordinal));
                var body = n == 0 ? "" : "{\"total\":0,\"offset\":0,\"limit\":50,\"items\":[]}";
                var head = n == 0
                    ? $"HTTP/1.1 307 Temporary Redirect\r\nLocation: {(absolute ? Url : "")}/elsewhere/api/dumps\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    : $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), _stop.Token);
            }
        });

        try
        {
            using var fleet = new Netdump.App.CommandLine.FleetClient(new Netdump.App.CommandLine.FleetTarget(new Uri(Url + "/"), true, tokenFile, null, ""));
            var (list, _) = await fleet.GetAsync("api/dumps", Netdump.App.Http.ApiJson.Default.DumpList);

            Assert.Equal(0, list.Total);
            Assert.Equal([true, true], authorized);
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task A_redirect_from_HTTPS_down_to_plain_HTTP_is_not_followed_and_the_token_stays_unsent()
    {
        // the HTTPS server answers with a 307 to a plain-HTTP address (this test's other listener):
        // following it would send the token in clear text
        var tokenFile = Path.Combine(Path.GetTempPath(), $"netdump-token-{Guid.NewGuid():N}");
        var pinnedFile = Path.Combine(Path.GetTempPath(), $"netdump-pinned-{Guid.NewGuid():N}.pem");
        File.WriteAllText(tokenFile, "0123456789abcdef0123456789abcdef\n");
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        File.WriteAllText(pinnedFile, certificate.ExportCertificatePem());
        using var tls = new TcpListener(IPAddress.Loopback, 0);
        tls.Start();
        var httpsUrl = $"https://127.0.0.1:{((IPEndPoint)tls.LocalEndpoint).Port}";
        var secureRequests = 0;
        _ = Task.Run(async () =>
        {
            using var client = await tls.AcceptTcpClientAsync(_stop.Token);
            using var ssl = new System.Net.Security.SslStream(client.GetStream());
            await ssl.AuthenticateAsServerAsync(certificate);
            var request = new byte[8192];
            var read = 0;
            while (!Encoding.ASCII.GetString(request, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                read += await ssl.ReadAsync(request.AsMemory(read), _stop.Token);
            }

            Interlocked.Increment(ref secureRequests);
            await ssl.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 307 Temporary Redirect\r\nLocation: {Url}/elsewhere/api/dumps\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), _stop.Token);
        });
        var plainRequests = new List<string>();
        _ = Task.Run(async () =>
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            plainRequests.Add(await ReadRequestAsync(client.GetStream()));
        });

        try
        {
            using var fleet = new Netdump.App.CommandLine.FleetClient(new Netdump.App.CommandLine.FleetTarget(new Uri(httpsUrl + "/"), true, tokenFile, pinnedFile, ""));
            var refused = await Assert.ThrowsAsync<Netdump.App.CommandLine.ServerAnswerException>(() => fleet.GetAsync("api/dumps", Netdump.App.Http.ApiJson.Default.DumpList));

            Assert.Contains("307", refused.Message);
            Assert.Equal(1, secureRequests);
            Assert.Empty(plainRequests);
        }
        finally
        {
            File.Delete(tokenFile);
            File.Delete(pinnedFile);
        }
    }

    [Fact]
    public async Task An_error_answer_reaches_the_terminal_as_one_line_without_its_escape_sequences()
    {
        Serve(_ => (500, "{\"error\": \"boom\\u001b]0;retitled\\u0007\\u001b[2J\\r\\nnetdump-server: forged\"}", 0));

        using var run = await ServerProcess.RunAsync(Patience, "list", "--server", Url);

        AssertOneCleanLine(run, "500 boom");
        Assert.Empty(run.StdoutLines);
    }

    [Theory]
    [InlineData("list", "{\"total\": 1, \"offset\": 0, \"limit\": 50, \"items\": null}")]
    [InlineData("status", "{\"items\": [{\"id\": null}]}")]
    [InlineData("groups", "{\"items\": [{\"id\": \"g\", \"hosts\": null}]}")]
    public async Task An_answer_missing_what_the_api_always_sends_is_one_line_not_a_stack_trace(string command, string body)
    {
        Serve(_ => (200, body, 0));

        using var run = await ServerProcess.RunAsync(Patience, command, "--server", Url);

        AssertOneCleanLine(run, "not the API's JSON");
    }

    [Fact]
    public async Task An_answer_larger_than_any_the_api_sends_is_refused_before_it_takes_the_memory()
    {
        Serve(_ => (200, "{\"items\": [", 2L * FleetClientLimit));

        using var run = await ServerProcess.RunAsync(Patience, "status", "--server", Url);

        AssertOneCleanLine(run, $"an answer over {FleetClientLimit >> 20} MiB, more than the API ever sends");
    }

    private const long FleetClientLimit = Netdump.App.CommandLine.FleetClient.MaxAnswerBytes;

    [Fact]
    public async Task Status_watch_asks_again_after_an_error_answer_as_after_silence()
    {
        Serve(n => n switch
        {
            0 => (200, "{\"items\": []}", 0),
            1 or 2 => (503, "{\"error\": \"restarting\"}", 0),
            _ => (200, "{\"items\": []}", 0),
        });

        using var watch = ServerProcess.Start("status", "--watch", "--server", Url);

        await watch.WaitForStderrAsync("answers again", Patience);
        Assert.False(watch.Process.HasExited);
        var said = watch.StderrLines;
        Assert.Contains(said, l => l.Contains("503 restarting; asking again every", StringComparison.Ordinal));
        Assert.Single(said, l => l.Contains("asking again", StringComparison.Ordinal)); // said once while it lasts
    }
}
