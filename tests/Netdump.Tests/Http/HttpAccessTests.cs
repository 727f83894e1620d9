using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Configuration;
using Netdump.Actors.Configuration;
using Netdump.App.Configuration;
using Netdump.Tests.EndToEnd;
using Netdump.Tests.Storage;

namespace Netdump.Tests.Http;

/// <summary>Who may use the HTTP side: <c>http = off</c>, the loopback rule, the bearer token, TLS.</summary>
public sealed class HttpAccessTests
{
    private const string Token = "0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task Http_off_starts_nothing()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "off" });
        Assert.Null(server.HttpUrl);
    }

    [Theory]
    [InlineData("0.0.0.0:20080")]
    [InlineData("192.0.2.10:0")]
    public void A_non_loopback_address_without_a_token_file_is_refused_in_one_line(string http)
    {
        var e = Assert.Throws<OperatorConfigException>(() => OperatorConfig.Merge(new Dictionary<string, object?> { ["http"] = http }, file: null));
        Assert.Contains($"http: {http} is not a loopback address", e.Message);
        Assert.Contains("http_token_file", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Theory]
    [InlineData("localhost:20080", "is not an address and port")]
    [InlineData("127.0.0.1", "is not an address and port")]
    [InlineData("127.0.0.1:70000", "is not an address and port")]
    public void A_bad_http_value_is_refused(string http, string problem)
    {
        var e = Assert.Throws<OperatorConfigException>(() => OperatorConfig.Merge(new Dictionary<string, object?> { ["http"] = http }, file: null));
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void A_certificate_without_its_key_is_refused()
    {
        var e = Assert.Throws<OperatorConfigException>(() =>
            OperatorConfig.Merge(new Dictionary<string, object?> { ["http_cert"] = "/etc/netdump/cert.pem" }, file: null));
        Assert.Contains("http_cert and http_key go together", e.Message);
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_closed_at_once_so_idle_ones_cannot_take_the_descriptors_dumps_need()
    {
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0" });
        var url = new Uri(server.HttpUrl!);
        const int Beyond = 16;
        var sockets = new List<System.Net.Sockets.Socket>();
        try
        {
            // connections that never send a request: the token, were there one, is never asked for
            for (var i = 0; i < Netdump.App.Http.HttpService.MaxConnections + Beyond; i++)
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, url.Port);
                sockets.Add(socket);
            }

            // the ones beyond the limit are closed by the server (a read sees the end), long before
            // any idle timeout; the others stay open
            var ends = sockets.Select(s => s.ReceiveAsync(new byte[1], System.Net.Sockets.SocketFlags.None)).ToList();
            var closed = 0;
            var pending = ends.ToList();
            while (closed < Beyond)
            {
                var done = await Task.WhenAny(pending).WaitAsync(TimeSpan.FromSeconds(25));
                pending.Remove(done);
                closed++;
            }

            Assert.Equal(Netdump.App.Http.HttpService.MaxConnections, pending.Count(t => !t.IsCompleted));
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }

        using var http = new HttpClient { BaseAddress = url };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task With_a_token_file_every_request_for_data_needs_the_token()
    {
        using var dir = new TempDirectory();
        var tokenFile = dir.Combine("token");
        File.WriteAllText(tokenFile, Token + "\n");
        File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0", ["http_token_file"] = tokenFile });
        using var http = new HttpClient { BaseAddress = new Uri(server.HttpUrl!) };

        foreach (var path in new[] { "/api/dumps", "/api/dumps/x", "/api/sessions", "/api/groups", "/metrics", "/healthz" })
        {
            using var none = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", none.Headers.WwwAuthenticate.ToString());

            using var wrong = new HttpRequestMessage(HttpMethod.Get, path);
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token[..^1] + "0");
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
        }

        // the dashboard's page and assets hold no data, and a browser cannot send the token with
        // the page's own load: served without it (the page then asks for the token)
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/dashboard/dashboard.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/", new StringContent(""))).StatusCode);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/dumps")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/dumps/x")).StatusCode);
    }

    [Fact]
    public async Task A_token_file_others_may_read_or_a_short_token_stops_the_start()
    {
        using var dir = new TempDirectory();
        var readable = dir.Combine("readable");
        File.WriteAllText(readable, Token);
        File.SetUnixFileMode(readable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var shortToken = dir.Combine("short");
        File.WriteAllText(shortToken, "secret");
        File.SetUnixFileMode(shortToken, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var e = await Assert.ThrowsAsync<OperatorConfigException>(() =>
            ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0", ["http_token_file"] = readable }));
        Assert.Contains("is readable by others", e.Message);
        e = await Assert.ThrowsAsync<OperatorConfigException>(() =>
            ServerHarness.StartAsync(new Dictionary<string, object?> { ["http"] = "127.0.0.1:0", ["http_token_file"] = shortToken }));
        Assert.Contains("at least 16 characters", e.Message);
    }

    [Fact]
    public async Task With_a_certificate_the_api_speaks_https()
    {
        using var dir = new TempDirectory();
        using var tls = LoopbackTls.Create();
        var (certificate, key) = (tls.Certificate, tls.Key);
        File.WriteAllText(dir.Combine("cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(dir.Combine("key.pem"), key.ExportPkcs8PrivateKeyPem());
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?>
        {
            ["http"] = "127.0.0.1:0", ["http_cert"] = dir.Combine("cert.pem"), ["http_key"] = dir.Combine("key.pem"),
        });
        var thumbprint = certificate.Thumbprint;
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == thumbprint };
        using var https = new HttpClient(handler) { BaseAddress = new Uri(server.HttpUrl!) };

        Assert.StartsWith("https://127.0.0.1:", server.HttpUrl);
        Assert.Equal(HttpStatusCode.OK, (await https.GetAsync("/healthz")).StatusCode);
        using var plain = new HttpClient { BaseAddress = new Uri(server.HttpUrl!.Replace("https://", "http://")) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync("/healthz"));
    }

    [Fact]
    public async Task The_local_fleet_commands_trust_the_servers_own_certificate_from_a_chain_file_without_its_key()
    {
        // the operations guide's setup: http_cert a full chain, http_key the key in a file of its
        // own; the commands pin the certificate of http_cert and never need the key
        using var dir = new TempDirectory();
        using var tls = LoopbackTls.Create();
        var (certificate, key) = (tls.Certificate, tls.Key);
        using var issuerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var issuer = new CertificateRequest("CN=issuer", issuerKey, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(dir.Combine("fullchain.pem"), certificate.ExportCertificatePem() + "\n" + issuer.ExportCertificatePem());
        File.WriteAllText(dir.Combine("privkey.pem"), key.ExportPkcs8PrivateKeyPem());
        await using var server = await ServerHarness.StartAsync(new Dictionary<string, object?>
        {
            ["http"] = "127.0.0.1:0", ["http_cert"] = dir.Combine("fullchain.pem"), ["http_key"] = dir.Combine("privkey.pem"),
        });

        using var fleet = new Netdump.App.CommandLine.FleetClient(
            new Netdump.App.CommandLine.FleetTarget(new Uri(server.HttpUrl!), false, null, dir.Combine("fullchain.pem"), server.DumpDir));
        var (list, _) = await fleet.GetAsync("api/dumps", Netdump.App.Http.ApiJson.Default.DumpList);

        Assert.Equal(0, list.Total);
    }

    [Fact]
    public void A_servers_certificate_file_that_holds_no_certificate_is_one_line_for_the_operator()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("cert.pem"), "not a certificate\n");

        var e = Assert.Throws<OperatorConfigException>(() => new Netdump.App.CommandLine.FleetClient(
            new Netdump.App.CommandLine.FleetTarget(new Uri("https://127.0.0.1:1/"), false, null, dir.Combine("cert.pem"), dir.Path)));

        Assert.StartsWith($"http_cert {dir.Combine("cert.pem")} cannot be read as a certificate: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>A self-signed certificate for 127.0.0.1 and its key, as an operator's <c>http_cert</c> and <c>http_key</c> hold them.</summary>
    private sealed record LoopbackTls(X509Certificate2 Certificate, RSA Key) : IDisposable
    {
        public static LoopbackTls Create()
        {
            var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            return new LoopbackTls(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1)), key);
        }

        public void Dispose()
        {
            Certificate.Dispose();
            Key.Dispose();
        }
    }
}
