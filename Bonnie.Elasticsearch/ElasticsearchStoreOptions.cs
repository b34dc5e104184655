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
}
