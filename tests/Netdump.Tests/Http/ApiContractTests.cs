using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Netdump.Actors.Catalog;
using Netdump.Actors.Storage;

namespace Netdump.Tests.Http;

/// <summary>The JSON API of docs/operations.md ("HTTP API") against a generated dump directory: filters, paging, 404, Range, names outside a dump.</summary>
public sealed class ApiContractTests(ApiServer api, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<ApiServer>
{
    private string IdOf(int i) => DumpId.Of(api.Server.DumpDir, api.Records[i].Directory);

    [Fact]
    public async Task The_dumps_are_listed_newest_first_with_their_total_and_a_page()
    {
        var all = await api.GetJsonAsync("/api/dumps");
        Assert.Equal(ApiServer.Dumps, all.GetProperty("total").GetInt32());
        Assert.Equal(50, all.GetProperty("limit").GetInt32());
        Assert.Equal(Enumerable.Range(0, ApiServer.Dumps).Reverse().Select(IdOf), Ids(all));

        var page = await api.GetJsonAsync("/api/dumps?limit=5&offset=5");
        Assert.Equal(ApiServer.Dumps, page.GetProperty("total").GetInt32());
        Assert.Equal(5, page.GetProperty("offset").GetInt32());
        Assert.Equal([6, 5, 4, 3, 2], Ids(page).Select(id => api.Records.FindIndex(r => DumpId.Of(api.Server.DumpDir, r.Directory) == id)));

        var beyond = await api.GetJsonAsync("/api/dumps?offset=40");
        Assert.Equal(ApiServer.Dumps, beyond.GetProperty("total").GetInt32());
        Assert.Empty(Ids(beyond));
    }

    [Fact]
    public async Task An_item_carries_the_facts_of_its_dump_json_its_group_and_a_node()
    {
        var item = (await api.GetJsonAsync("/api/dumps?limit=1")).GetProperty("items")[0];
        var record = api.Records[^1]; // the newest: i = 11, incomplete, "double fault"

        Assert.Equal(JsonValueKind.Null, item.GetProperty("node").ValueKind);
        Assert.Equal("incomplete", item.GetProperty("status").GetString());
        Assert.Equal("client timed out", item.GetProperty("reason").GetString());
        Assert.Equal("client_timed_out", item.GetProperty("reason_kind").GetString());
        Assert.Equal(record.ClientIp.ToString(), item.GetProperty("client_ip").GetString());
        Assert.Equal("web6.example.org", item.GetProperty("host").GetString());
        Assert.Equal("double fault", item.GetProperty("panic_string").GetString());
        Assert.Equal("FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8", item.GetProperty("kernel").GetString());
        Assert.Equal(PanicGroupKey.Of("double fault", "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8")!.Id, item.GetProperty("group").GetString());
        Assert.Equal(record.ReceivedAt, item.GetProperty("received_at").GetDateTimeOffset());
        Assert.EndsWith("Z", item.GetProperty("received_at").GetString());
        Assert.Equal(1, item.GetProperty("hole_count").GetInt32());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("progress").ValueKind);
        Assert.False(item.TryGetProperty("files", out _));
    }

    [Fact]
    public async Task Filters_by_host_status_since_and_group_combine()
    {
        Assert.Equal([IdOf(6), IdOf(0)], Ids(await api.GetJsonAsync("/api/dumps?host=WEB1.example.org")));
        Assert.Equal([IdOf(6), IdOf(0)], Ids(await api.GetJsonAsync("/api/dumps?host=192.0.2.1")));
        Assert.Equal([IdOf(11), IdOf(8), IdOf(5), IdOf(2)], Ids(await api.GetJsonAsync("/api/dumps?status=incomplete")));
        Assert.Equal(ApiServer.Dumps, (await api.GetJsonAsync("/api/dumps?status=complete,incomplete")).GetProperty("total").GetInt32());
        Assert.Equal(ApiServer.Dumps, (await api.GetJsonAsync("/api/dumps?status=")).GetProperty("total").GetInt32()); // empty: no filter, as host= is
        Assert.Equal(ApiServer.Dumps, (await api.GetJsonAsync("/api/dumps?status=,")).GetProperty("total").GetInt32());
        Assert.Equal(ApiServer.Dumps, (await api.GetJsonAsync("/api/dumps?status=,%09,")).GetProperty("total").GetInt32()); // a tab is blank too
        Assert.Equal([IdOf(11), IdOf(10)], Ids(await api.GetJsonAsync($"/api/dumps?since={Uri.EscapeDataString(api.Records[10].ReceivedAt.UtcDateTime.ToString("O"))}")));
        Assert.Equal(ApiServer.Dumps, (await api.GetJsonAsync("/api/dumps?since=100000d")).GetProperty("total").GetInt32());
        // the same time with an offset, and a date alone (its midnight UTC)
        var at = api.Records[10].ReceivedAt.ToOffset(TimeSpan.FromHours(2));
        Assert.Equal([IdOf(11), IdOf(10)], Ids(await api.GetJsonAsync($"/api/dumps?since={Uri.EscapeDataString(at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", System.Globalization.CultureInfo.InvariantCulture))}")));
        // RFC 3339's space, and an offset's + typed into the URL as is (the query decodes it to a space)
        var utc = api.Records[10].ReceivedAt.UtcDateTime;
        Assert.Equal([IdOf(11), IdOf(10)], Ids(await api.GetJsonAsync("/api/dumps?since=" + Uri.EscapeDataString(utc.ToString("yyyy-MM-dd HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)))));
        Assert.Equal([IdOf(11), IdOf(10)], Ids(await api.GetJsonAsync("/api/dumps?since=" + at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.Equal([IdOf(11), IdOf(10)], Ids(await api.GetJsonAsync("/api/dumps?since=" + Uri.EscapeDataString(at.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffffzz", System.Globalization.CultureInfo.InvariantCulture)))));
        var day = api.Records[10].ReceivedAt.UtcDateTime.Date;
        Assert.Equal(api.Records.Count(r => r.ReceivedAt >= day), (await api.GetJsonAsync("/api/dumps?since=" + day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))).GetProperty("total").GetInt32());

        var doubleFault = PanicGroupKey.Of("double fault", "FreeBSD 14.1-RELEASE #0 releng/14.1-n267679-10e31f0946d8")!.Id;
        var group = await api.GetJsonAsync($"/api/dumps?group={doubleFault}");
        Assert.Equal(6, group.GetProperty("total").GetInt32());
        Assert.Equal([IdOf(11), IdOf(5)], Ids(await api.GetJsonAsync($"/api/dumps?group={doubleFault}&status=incomplete")));
        Assert.Empty(Ids(await api.GetJsonAsync($"/api/dumps?group={doubleFault}&host=web1.example.org")));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("offset=-1", "offset")]
    [InlineData("status=lost", "status")]
    [InlineData("since=yesterday", "since")]
    [InlineData("since=99999999999999999999s", "since")] // more digits than a number holds
    [InlineData("since=01%2F05%2F2024", "since")] // January or May: not guessed
    [InlineData("since=2024-05-01T10%3A00", "since")] // a time without its zone
    [InlineData("since=10%3A00", "since")] // a time without its day
    public async Task A_bad_query_is_a_400_that_names_the_parameter(string query, string parameter)
    {
        using var response = await api.Http.GetAsync($"/api/dumps?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.StartsWith($"{parameter}: ", error);
    }

    [Theory]
    [InlineData("GET", "/api/nothing", HttpStatusCode.NotFound, "GET /api/nothing: not found")]
    [InlineData("GET", "/api/dumps/x/y/z", HttpStatusCode.NotFound, "GET /api/dumps/x/y/z: not found")]
    [InlineData("GET", "/dashboard/nothing.js", HttpStatusCode.NotFound, "GET /dashboard/nothing.js: not found")]
    [InlineData("DELETE", "/api/dumps", HttpStatusCode.MethodNotAllowed, "DELETE /api/dumps: method not allowed")]
    public async Task Every_error_has_its_one_line_json_body_an_unknown_path_and_method_too(string method, string path, HttpStatusCode status, string error)
    {
        using var response = await api.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(error, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task One_dump_lists_its_files_and_an_unknown_id_is_404()
    {
        var dump = await api.GetJsonAsync($"/api/dumps/{Uri.EscapeDataString(IdOf(7))}");
        Assert.StartsWith("rack1~", IdOf(7));
        Assert.Equal(IdOf(7), dump.GetProperty("id").GetString());
        var files = dump.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
        Assert.Equal(["dump.json", "info", "vmcore"], files.Keys.Order());
        Assert.Equal(4096, files["vmcore"].GetProperty("size").GetInt64());

        var core = await api.Http.GetByteArrayAsync(files["vmcore"].GetProperty("url").GetString());
        Assert.Equal(File.ReadAllBytes(Path.Combine(api.Records[7].Directory, "vmcore")), core);

        foreach (var unknown in new[] { "nope", "192.0.2.1-2020-01-01-00:00:00", "rack1" })
        {
            using var response = await api.Http.GetAsync($"/api/dumps/{Uri.EscapeDataString(unknown)}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("no dump", await response.Content.ReadAsStringAsync());
        }

        using var noFile = await api.Http.GetAsync($"/api/dumps/{Uri.EscapeDataString(IdOf(7))}/files/vmcore.gz");
        Assert.Equal(HttpStatusCode.NotFound, noFile.StatusCode);
    }

    [Fact]
    public async Task Without_a_token_a_dumps_files_go_only_to_the_servers_own_user_and_root_its_list_to_every_local_user()
    {
        if (!Storage.Tmpfs.IsRoot)
        {
            output.WriteLine("SKIPPED: only root can ask as another user; the check of the peer's user was not made");
            return;
        }

        var url = new Uri(api.Server.HttpUrl!);
        // as nobody, another local user: loopback is every user of the machine
        async Task<string> StatusLineAsNobody(string path)
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setpriv",
                ["--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c",
                 "exec 3<>/dev/tcp/$0/$1 && printf 'GET %s HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' \"$2\" >&3 && head -1 <&3", url.Host, url.Port.ToString(), path])
            {
                RedirectStandardOutput = true,
            })!;
            var line = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return line.Trim();
        }

        var file = $"/api/dumps/{Uri.EscapeDataString(IdOf(3))}/files/vmcore";
        Assert.StartsWith("HTTP/1.1 403", await StatusLineAsNobody(file));
        Assert.StartsWith("HTTP/1.1 200", await StatusLineAsNobody("/api/dumps"));
        using var own = await api.Http.GetAsync(file); // this process: the server's own user
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task A_file_is_served_in_ranges()
    {
        var url = $"/api/dumps/{Uri.EscapeDataString(IdOf(3))}/files/vmcore";
        var expected = File.ReadAllBytes(Path.Combine(api.Records[3].Directory, "vmcore"));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(1000, 1999);

        using var response = await api.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 1000-1999/4096", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(expected[1000..2000], await response.Content.ReadAsByteArrayAsync());

        using var tail = new HttpRequestMessage(HttpMethod.Get, url);
        tail.Headers.Range = new RangeHeaderValue(null, 96);
        using var tailResponse = await api.Http.SendAsync(tail);
        Assert.Equal(expected[^96..], await tailResponse.Content.ReadAsByteArrayAsync());

        using var beyond = new HttpRequestMessage(HttpMethod.Get, url);
        beyond.Headers.Range = new RangeHeaderValue(5000, 6000);
        using var beyondResponse = await api.Http.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyondResponse.StatusCode);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("%2e%2e")]
    [InlineData("..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("%2Fetc%2Fpasswd")]
    [InlineData("%2e%2e%2fdump.json")]
    [InlineData("..%5C..%5Cdump.json")]
    [InlineData(".info.final.tmp")]
    [InlineData("passwd-link")]
    public async Task A_name_outside_the_dump_directory_is_refused(string name)
    {
        // a link planted in the dump directory is not served either
        var link = Path.Combine(api.Records[4].Directory, "passwd-link");
        if (!File.Exists(link))
        {
            File.CreateSymbolicLink(link, "/etc/passwd");
        }

        using var response = await api.Http.GetAsync($"/api/dumps/{Uri.EscapeDataString(IdOf(4))}/files/{name}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("root:", body);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            // "files/.." is normalised away before routing (by the client and by Kestrel): what
            // answers is the dump itself, never a file
            Assert.Equal(IdOf(4), JsonDocument.Parse(body).RootElement.GetProperty("id").GetString());
        }
        else
        {
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{name}: {response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("/api/dumps/x/files/../../../../etc/passwd")]
    [InlineData("/api/dumps/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/api/dumps/..%2F..%2Fetc/files/passwd")]
    public async Task A_path_that_climbs_out_of_the_api_reaches_no_file(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api.Http.BaseAddress!, new Uri(path, UriKind.Relative)));
        using var raw = new HttpClient(new SocketsHttpHandler()) { BaseAddress = api.Http.BaseAddress };
        using var response = await raw.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
        Assert.DoesNotContain("root:", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_groups_count_hosts_and_dumps_most_recent_first()
    {
        var groups = (await api.GetJsonAsync("/api/groups")).GetProperty("items").EnumerateArray().ToList();

        Assert.Equal(2, groups.Count);
        var doubleFault = groups[0]; // its newest dump is the newest of all
        Assert.Equal("double fault", doubleFault.GetProperty("panic").GetString());
        Assert.Equal(6, doubleFault.GetProperty("dumps").GetInt32());
        Assert.Equal(3, doubleFault.GetProperty("host_count").GetInt32());
        Assert.Equal(["web2.example.org", "web4.example.org", "web6.example.org"], doubleFault.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(api.Records[1].ReceivedAt, doubleFault.GetProperty("first_seen").GetDateTimeOffset());
        Assert.Equal(api.Records[11].ReceivedAt, doubleFault.GetProperty("last_seen").GetDateTimeOffset());
        Assert.Equal("page fault at 0x# pid #", groups[1].GetProperty("panic").GetString());
        Assert.Equal(JsonValueKind.Null, groups[1].GetProperty("storm_at").ValueKind);
    }

    [Fact]
    public async Task The_groups_come_a_page_at_a_time_with_their_total()
    {
        var second = await api.GetJsonAsync("/api/groups?limit=1&offset=1");

        Assert.Equal(2, second.GetProperty("total").GetInt32());
        Assert.Equal(1, second.GetProperty("offset").GetInt32());
        Assert.Equal(1, second.GetProperty("limit").GetInt32());
        Assert.Equal("page fault at 0x# pid #", Assert.Single(second.GetProperty("items").EnumerateArray()).GetProperty("panic").GetString());
        Assert.Equal(Netdump.App.Http.ListQuery.DefaultLimit, (await api.GetJsonAsync("/api/groups")).GetProperty("limit").GetInt32());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("offset=-1", "offset")]
    public async Task A_bad_groups_page_is_a_400_that_names_the_parameter(string query, string parameter)
    {
        using var response = await api.Http.GetAsync($"/api/groups?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        Assert.StartsWith($"{parameter}: ", error);
    }

    [Fact]
    public async Task Healthz_answers_with_the_catalog_size()
    {
        var health = await api.GetJsonAsync("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(ApiServer.Dumps, health.GetProperty("dumps").GetInt32());
    }

    private static List<string> Ids(JsonElement page) =>
        page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToList();
}
