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
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
