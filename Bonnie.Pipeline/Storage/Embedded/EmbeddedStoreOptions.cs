using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>The embedded store's settings, section <c>Bonnie:Store</c>.</summary>
public sealed class EmbeddedStoreOptions
{
    public const string Section = "Bonnie:Store";

    /// <summary>Where the database and payloads live; default <c>&lt;Bonnie:DataDirectory&gt;/store</c>.</summary>
    public string? Directory { get; set; }
    /// <summary>Compress payloads with zstd when that makes them smaller (reads stay byte-exact).</summary>
    public bool CompressPayloads { get; set; } = true;
    /// <summary>SQLite page cache of each of the store's two connections that ingest uses: the writer's and the handlers' lookups'.</summary>
    public int CacheSizeMegabytes { get; set; } = 64;
    /// <summary>
    /// How long one search (its page, total and facets) may run before it is stopped and the officer asked to narrow
    /// it. Long enough for any filtered query over millions of events (p95 under 100 ms, bench/README.md); short
    /// enough that a runaway query does not hold a core while its officer waits.
    /// </summary>
    public TimeSpan SearchTimeout { get; set; } = DefaultSearchTimeout;

    internal static readonly TimeSpan DefaultSearchTimeout = TimeSpan.FromSeconds(30);
}

internal sealed class ValidateEmbeddedStoreOptions : IValidateOptions<EmbeddedStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedStoreOptions options)
    {
        var errors = new List<string>();
        if (options.Directory is { } dir && string.IsNullOrWhiteSpace(dir))
        {
            errors.Add("Bonnie:Store:Directory must not be blank; leave it out to use <Bonnie:DataDirectory>/store.");
        }
        if (options.CacheSizeMegabytes is < 1 or > 65536)
        {
            errors.Add($"Bonnie:Store:CacheSizeMegabytes must be between 1 and 65536 (was {options.CacheSizeMegabytes}).");
        }
        if (options.SearchTimeout < TimeSpan.FromSeconds(1) || options.SearchTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"Bonnie:Store:SearchTimeout must be between 00:00:01 and 01:00:00 (was {options.SearchTimeout}).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
