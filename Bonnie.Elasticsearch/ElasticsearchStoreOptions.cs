using Microsoft.Extensions.Options;

namespace Bonnie.Elasticsearch;

/// <summary>The <c>Bonnie:Elasticsearch</c> section, used when <c>Bonnie:Store:Kind</c> is <c>Elasticsearch</c>.</summary>
public sealed class ElasticsearchStoreOptions
{
    public const string Section = "Bonnie:Elasticsearch";

    /// <summary>One or more node URLs.</summary>
    public List<string> Nodes { get; set; } = [];
    /// <summary>Prefix of every index and template Bonnie creates.</summary>
    public string IndexPrefix { get; set; } = "bonnie";
    public string UserName { get; set; } = "";
    /// <summary>Never logged.</summary>
    public string Password { get; set; } = "";
    /// <summary>Never logged.</summary>
    public string ApiKey { get; set; } = "";
    /// <summary>SHA-256 fingerprint of the cluster's CA, for self-signed clusters; empty: the system's trust store.</summary>
    public string CertificateFingerprint { get; set; } = "";
    /// <summary>Attempts per request when the cluster answers 429 or 5xx or cannot be reached (first try included).</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>Delay before the first retry; doubled on each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);
    /// <summary>How long one request may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// How long the feed (events in the order they were stored) holds an event back after it was sent: longer than a
    /// bulk request takes and the clocks of the workers differ (<c>ElasticsearchStore.ReadFeedAsync</c>).
    /// </summary>
    public TimeSpan FeedSettle { get; set; } = DefaultFeedSettle;

    internal static readonly TimeSpan DefaultFeedSettle = TimeSpan.FromSeconds(30);
    /// <summary>
    /// Operations at most in one bulk request. A worker's batch can hold many thousands of events (its transaction
    /// size in the embedded store); the cluster is sent them in requests of this many, far below its
    /// <c>http.max_content_length</c> (100 MB by default) and near the 5-15 MB a bulk request is advised to be.
    /// </summary>
    public int MaxBulkOperations { get; set; } = 1000;
    /// <summary>Bytes at most in one bulk request's body (an operation larger than this alone goes in a request of its own).</summary>
    public int MaxBulkBytes { get; set; } = 10 * 1024 * 1024;
}

internal sealed class ValidateElasticsearchStoreOptions : IValidateOptions<ElasticsearchStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, ElasticsearchStoreOptions options)
    {
        var errors = new List<string>();
        if (options.Nodes.Count == 0)
        {
            errors.Add("Bonnie:Elasticsearch:Nodes must name at least one node (e.g. Bonnie__Elasticsearch__Nodes__0=https://es1:9200).");
        }
        for (var i = 0; i < options.Nodes.Count; i++)
        {
            if (!Uri.TryCreate(options.Nodes[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"Bonnie:Elasticsearch:Nodes:{i} must be an http or https URL (was '{options.Nodes[i]}').");
            }
        }
        // Index names: lower case, no path or wildcard characters, not starting with - _ +.
        if (string.IsNullOrEmpty(options.IndexPrefix) || options.IndexPrefix.Length > 100
            || !options.IndexPrefix.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.')
            || options.IndexPrefix[0] is '-' or '_' or '.')
        {
            errors.Add($"Bonnie:Elasticsearch:IndexPrefix must be 1-100 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit (was '{options.IndexPrefix}').");
        }
        if (options.ApiKey.Length > 0 && (options.UserName.Length > 0 || options.Password.Length > 0))
        {
            errors.Add("Bonnie:Elasticsearch: set either ApiKey or UserName/Password, not both.");
        }
        if (options.UserName.Length > 0 != options.Password.Length > 0)
        {
            errors.Add("Bonnie:Elasticsearch:UserName and Password go together: set both or neither.");
        }
        if (options.MaxAttempts is < 1 or > 20)
        {
            errors.Add($"Bonnie:Elasticsearch:MaxAttempts must be between 1 and 20 (was {options.MaxAttempts}).");
        }
        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
        {
            errors.Add($"Bonnie:Elasticsearch:RetryDelay must be between 0 and 1 minute (was {options.RetryDelay}).");
        }
        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > TimeSpan.FromMinutes(30))
        {
            errors.Add($"Bonnie:Elasticsearch:RequestTimeout must be positive and at most 30 minutes (was {options.RequestTimeout}).");
        }
        if (options.FeedSettle < TimeSpan.FromSeconds(1))
        {
            // Zero or less would answer events still on their way, and a client would pass them for good.
            errors.Add($"Bonnie:Elasticsearch:FeedSettle must be at least 1 second (was {options.FeedSettle}).");
        }
        if (options.MaxBulkOperations is < 1 or > 100_000)
        {
            errors.Add($"Bonnie:Elasticsearch:MaxBulkOperations must be between 1 and 100000 (was {options.MaxBulkOperations}).");
        }
        if (options.MaxBulkBytes is < 64 * 1024 or > 100 * 1024 * 1024)
        {
            errors.Add($"Bonnie:Elasticsearch:MaxBulkBytes must be between 65536 and 104857600 (was {options.MaxBulkBytes}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
