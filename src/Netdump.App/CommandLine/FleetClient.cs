using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Netdump.App.Configuration;
using Netdump.App.Http;

namespace Netdump.App.CommandLine;

/// <summary>The server could not be asked at all (refused, timed out, TLS failed): the message is one line naming the server.</summary>
public sealed class ServerUnreachableException(string message, Exception inner) : Exception(message, inner);

/// <summary>The server answered with an error (<c>404 no dump ...</c>, <c>401</c>, <c>400</c>): <see cref="Exception.Message"/> is its one line.</summary>
public sealed class ServerAnswerException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The fleet commands' side of the HTTP API (docs/operations.md, "HTTP API"): GETs with the
/// bearer token when one is configured, a short timeout, and the API's own JSON types, so that
/// what the CLI reads is what the server wrote. TLS with a certificate the system does not
/// trust is accepted only when it is exactly the one of the server's own conf (<c>http_cert</c>).
/// </summary>
public sealed class FleetClient : IDisposable
{
    /// <summary>How long a question may take before the server counts as not answering.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The largest answer read: a page of 1,000 dumps is about a megabyte; something answering
    /// with gigabytes (not a netdump server) once took the CLI's memory until it died.
    /// </summary>
    public const int MaxAnswerBytes = 64 << 20;

    /// <summary>
    /// Options that refuse a null where the API's types have none, and a missing required value:
    /// an answer with <c>"items": null</c> stopped every command with a stack trace.
    /// </summary>
    private static JsonTypeInfo<T> Strict<T>(JsonTypeInfo<T> type) => (JsonTypeInfo<T>)StrictOptions.GetTypeInfo(type.Type);

    private static readonly JsonSerializerOptions StrictOptions =
        new(ApiJson.Default.Options) { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true };

    private readonly HttpClient _http;

    public FleetClient(FleetTarget target)
    {
        ArgumentNullException.ThrowIfNull(target.Server);
        Server = target.Server;
        var pinned = target.Pinned is { } path && File.Exists(path) ? ReadPinned(path) : null;
        var handler = new SocketsHttpHandler
        {
            // followed here (GetFollowingAsync): HttpClient drops the token on every redirect it follows
            AllowAutoRedirect = false,
            ConnectTimeout = Timeout,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    errors == SslPolicyErrors.None || (pinned is not null && certificate is not null && pinned.RawData.AsSpan().SequenceEqual(certificate.GetRawCertData())),
            },
        };
        _http = new HttpClient(handler) { BaseAddress = Server, Timeout = Timeout, MaxResponseContentBufferSize = MaxAnswerBytes };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (target.TokenFile is { } tokenFile)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ReadToken(tokenFile));
        }
    }

    public Uri Server { get; }

    /// <summary>GETs <paramref name="path"/> (relative, e.g. <c>api/sessions</c>): the parsed answer and its text as sent.</summary>
    public async Task<(T Value, string Text)> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancel = default)
    {
        string text;
        HttpStatusCode status;
        try
        {
            using var response = await GetFollowingAsync(path, cancel);
            status = response.StatusCode;
            text = await response.Content.ReadAsStringAsync(cancel);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded)
        {
            throw new ServerAnswerException(HttpStatusCode.OK, $"{Server}{path}: an answer over {MaxAnswerBytes >> 20} MiB, more than the API ever sends; is this a netdump server?");
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancel.IsCancellationRequested))
        {
            throw new ServerUnreachableException($"cannot reach the server at {Server}: {Why(e)}", e);
        }

        if (status != HttpStatusCode.OK)
        {
            throw new ServerAnswerException(status, $"{Server}{path}: {(int)status} {ErrorOf(text) ?? status.ToString()}");
        }

        try
        {
            return (JsonSerializer.Deserialize(text, Strict(type)) ?? throw new JsonException("null"), text);
        }
        catch (JsonException e)
        {
            throw new ServerAnswerException(status, $"{Server}{path}: not the API's JSON ({e.Message.ReplaceLineEndings(" ")}); is this a netdump server?");
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Most redirects followed for one question (a fleet redirects once: to the node that holds the dump).</summary>
    private const int MaxRedirects = 3;

    /// <summary>
    /// GETs <paramref name="path"/>, following a temporary or permanent redirect with the token:
    /// a node answers for a dump another node of its fleet holds with a 307 to that node's API
    /// (the fleet shares one <c>http_token_file</c>), and HttpClient, following it itself, dropped
    /// the Authorization header, so <c>show</c> of such a dump ended in a 401.
    /// </summary>
    private async Task<HttpResponseMessage> GetFollowingAsync(string path, CancellationToken cancel)
    {
        var at = new Uri(Server, path);
        var response = await _http.GetAsync(at, cancel);
        for (var hops = 0; hops < MaxRedirects
             && response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect
             && response.Headers.Location is { } location; hops++)
        {
            var next = new Uri(at, location); // a relative one from where it was said
            // the token goes on only over HTTP(S), and never from HTTPS down to plain HTTP
            if (next.Scheme != Uri.UriSchemeHttps && (next.Scheme != Uri.UriSchemeHttp || at.Scheme == Uri.UriSchemeHttps))
            {
                break;
            }

            response.Dispose();
            at = next;
            response = await _http.GetAsync(at, cancel);
        }

        return response;
    }

    /// <summary>
    /// The server's certificate from its <c>http_cert</c> (the first of its chain), trusted for its
    /// TLS. Only the certificate is read: the private key is in <c>http_key</c>, as the operations
    /// guide sets it up, and not the operator's to read (a loader that wanted the key in this file
    /// stopped every local command against an HTTPS server with a stack trace).
    /// </summary>
    private static X509Certificate2 ReadPinned(string path)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new OperatorConfigException($"http_cert {path} cannot be read as a certificate: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    /// <summary>The token on the first line of <c>http_token_file</c>, as the server reads it.</summary>
    private static string ReadToken(string path)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault()?.Trim() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OperatorConfigException($"http_token_file {path} cannot be read: {e.Message}", e);
        }
    }

    private static string Why(Exception e)
    {
        if (e is TaskCanceledException)
        {
            return $"no answer within {Timeout.TotalSeconds:0} s";
        }

        var socket = e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
        return socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused (is the server running, with http on?)",
            SocketError.TimedOut => $"no answer within {Timeout.TotalSeconds:0} s",
            _ => (e.InnerException ?? e).Message.ReplaceLineEndings(" "),
        };
    }

    private static string? ErrorOf(string text)
    {
        try
        {
            return JsonSerializer.Deserialize(text, ApiJson.Default.ApiError)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
