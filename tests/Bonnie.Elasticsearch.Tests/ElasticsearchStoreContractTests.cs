using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Elasticsearch.Tests;

/// <summary>
/// The store contract against a real cluster at BONNIE_ELASTICSEARCH_URL (e.g. http://elastic:secret@127.0.0.1:9200),
/// each test in indices of its own prefix, deleted afterwards. Without the variable every test here is skipped,
/// saying so: the only skip in Bonnie's suite, because no Elasticsearch can be installed on the build machines.
/// </summary>
public sealed class ElasticsearchStoreContractTests : StoreContractTests
{
    public const string UrlVariable = "BONNIE_ELASTICSEARCH_URL";
    private ElasticsearchStore? _store;

    protected override Task<IBonnieStore> CreateStoreAsync()
    {
        var url = Environment.GetEnvironmentVariable(UrlVariable);
        Skip.If(string.IsNullOrWhiteSpace(url),
            $"No Elasticsearch cluster: set {UrlVariable} (e.g. {UrlVariable}=http://127.0.0.1:9200 ./test.sh) to run the store contract tests against one.");
        var uri = new Uri(url!);
        var options = new ElasticsearchStoreOptions
        {
            Nodes = [new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()],
            IndexPrefix = "bonnie-test-" + Guid.NewGuid().ToString("N")[..12],
            RetryDelay = TimeSpan.FromMilliseconds(100),
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            options.UserName = Uri.UnescapeDataString(parts[0]);
            options.Password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
        }
        var connection = new ElasticsearchConnection(options, TimeProvider.System, NullLogger.Instance);
        // No settling: the contract's writes are one after another, each visible when its commit returns (refresh=wait_for).
        _store = new ElasticsearchStore(connection, new IndexLayout(options.IndexPrefix), NullLogger<ElasticsearchStore>.Instance) { FeedSettle = TimeSpan.Zero };
        return Task.FromResult<IBonnieStore>(_store);
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DeleteIndicesAsync();
        }
    }
}
