using System.Globalization;
using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Microsoft.Extensions.Logging;
using HttpMethod = Elastic.Transport.HttpMethod;

namespace Bonnie.Elasticsearch;

/// <summary>A response the store accepted: its status and parsed body (null when empty).</summary>
internal sealed record EsResponse(int Status, JsonNode? Body);

/// <summary>
/// The one way Bonnie talks to the cluster: the official client's transport (node pool, authentication, TLS
/// fingerprint, product check) carrying JSON Bonnie writes itself, so that what goes on the wire is exactly what
/// the tests assert. The client does not throw on a failed call; this does: every answer that is not a success
/// (or one the caller declared acceptable, such as 404 on a lookup) becomes an <see cref="ElasticsearchStoreException"/>
/// naming the status and the server's reason, after bounded retries with doubling delays for 429, 5xx and
/// unreachable nodes. Nothing is reported as done that the cluster did not confirm.
/// </summary>
internal sealed partial class ElasticsearchConnection
{
    // The client asks for version 9's compatible answers in Accept. Elasticsearch refuses a request (400
    // media_type_header_exception) whose Content-Type does not name the same version, so both headers are set here,
    // and set together.
    internal const string JsonMediaType = "application/vnd.elasticsearch+json;compatible-with=9";
    internal const string NdJsonMediaType = "application/vnd.elasticsearch+x-ndjson;compatible-with=9";
    private static readonly RequestConfiguration Json = new() { ContentType = JsonMediaType, Accept = JsonMediaType };
    private static readonly RequestConfiguration NdJson = new() { ContentType = NdJsonMediaType, Accept = JsonMediaType };

    private readonly ITransport _transport;
    private readonly ElasticsearchStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public ElasticsearchConnection(ElasticsearchStoreOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        var nodes = options.Nodes.Select(n => new Uri(n)).ToList();
        NodePool pool = nodes.Count == 1 ? new SingleNodePool(nodes[0]) : new StaticNodePool(nodes);
        var settings = new ElasticsearchClientSettings(pool)
            .RequestTimeout(options.RequestTimeout)
            // Bonnie retries itself (below) so that every retry is bounded, logged and counted the same way.
            .MaximumRetries(0);
        if (options.ApiKey.Length > 0)
        {
            settings = settings.Authentication(new ApiKey(options.ApiKey));
        }
        else if (options.UserName.Length > 0)
        {
            settings = settings.Authentication(new BasicAuthentication(options.UserName, options.Password));
        }
        if (options.CertificateFingerprint.Length > 0)
        {
            settings = settings.CertificateFingerprint(options.CertificateFingerprint);
        }
        _transport = new ElasticsearchClient(settings).Transport;
    }

    public Task<EsResponse> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, params int[] accepted)
        => SendAsync(method, path, body?.ToJsonString(), ndjson: false, cancellationToken, accepted);

    public Task<EsResponse> SendAsync(HttpMethod method, string path, string? body, bool ndjson, CancellationToken cancellationToken, params int[] accepted)
        => SendAsync(method, path, () => body, ndjson, cancellationToken, accepted);

    /// <param name="body">Asked again for each attempt: a bulk request gives its events new feed positions when it is sent again.</param>
    public async Task<EsResponse> SendAsync(HttpMethod method, string path, Func<string?> body, bool ndjson, CancellationToken cancellationToken, params int[] accepted)
    {
        var attempt = 0;
        while (true)
        {
            attempt++;
            var text = body();
            var response = await _transport.RequestAsync<StringResponse>(
                method, path, text is null ? null : PostData.String(text), ndjson ? NdJson : Json, cancellationToken).ConfigureAwait(false);
            var details = response.ApiCallDetails;
            var status = details.HttpStatusCode;
            if (status is { } ok && (details.HasSuccessfulStatusCode || accepted.Contains(ok)))
            {
                var parsed = Parse(response.Body);
                if (ok < 300 && parsed?["_shards"]?["failed"] is JsonValue failed && failed.TryGetValue<int>(out var shards) && shards > 0)
                {
                    // A count or refresh some shards did not answer is not an answer: its number would be short.
                    throw new ElasticsearchStoreException(
                        $"Elasticsearch {method} /{path} failed on {shards} shard(s): {Shorten(parsed["_shards"]!.ToJsonString())}", ok, null);
                }
                return new EsResponse(ok, parsed);
            }
            var reason = Reason(status, response.Body, details.OriginalException);
            var retryable = status is null or 429 or >= 500;
            if (!retryable || attempt >= _options.MaxAttempts)
            {
                throw new ElasticsearchStoreException(
                    $"Elasticsearch {method} /{path} failed{(retryable && attempt > 1 ? $" after {attempt} attempts" : "")}: {reason}",
                    status, details.OriginalException);
            }
            var delay = RetryDelay(attempt);
            LogRetry(_logger, method.ToString(), path, reason, attempt, _options.MaxAttempts, delay);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    public TimeSpan RetryDelay(int attempt) => _options.RetryDelay * Math.Pow(2, Math.Min(attempt - 1, 10));

    public int MaxAttempts => _options.MaxAttempts;

    public int MaxBulkOperations => _options.MaxBulkOperations;

    public int MaxBulkBytes => _options.MaxBulkBytes;

    public Task WaitBeforeRetryAsync(int attempt, CancellationToken cancellationToken) => Task.Delay(RetryDelay(attempt), _time, cancellationToken);

    private static JsonNode? Parse(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(body);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ElasticsearchStoreException($"Elasticsearch answered with a body that is not JSON: {Shorten(body)}", null, ex);
        }
    }

    /// <summary>The server's own words: <c>HTTP 429 es_rejected_execution_exception: rejected execution...</c>.</summary>
    internal static string Reason(int? status, string? body, Exception? exception)
    {
        var head = status is { } s ? "HTTP " + s.ToString(CultureInfo.InvariantCulture) : "no response";
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                if (JsonNode.Parse(body) is JsonObject o && o["error"] is { } error)
                {
                    return error is JsonObject e
                        ? $"{head} {e["type"]?.GetValue<string>()}: {e["reason"]?.GetValue<string>()}"
                        : $"{head} {error}";
                }
            }
            catch (System.Text.Json.JsonException)
            {
            }
            return $"{head} {Shorten(body)}";
        }
        return exception is null ? head : $"{head} ({exception.GetType().Name}: {exception.Message})";
    }

    private static string Shorten(string s) => s.Length <= 300 ? s : s[..300] + "...";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Elasticsearch {Method} /{Path} failed ({Reason}); attempt {Attempt} of {MaxAttempts}, retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string method, string path, string reason, int attempt, int maxAttempts, TimeSpan delay);
}

/// <summary>The cluster refused or could not be asked, after bounded retries. The operation did not complete.</summary>
public sealed class ElasticsearchStoreException : Exception
{
    public ElasticsearchStoreException() : base("Elasticsearch did not complete the operation.") { }
    public ElasticsearchStoreException(string message) : base(message) { }
    public ElasticsearchStoreException(string message, Exception innerException) : base(message, innerException) { }
    public ElasticsearchStoreException(string message, int? status, Exception? innerException) : base(message, innerException) => Status = status;

    /// <summary>The HTTP status of the last answer; null when no node answered.</summary>
    public int? Status { get; }
}
