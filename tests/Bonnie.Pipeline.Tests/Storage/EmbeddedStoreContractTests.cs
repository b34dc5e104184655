using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Tests.Storage;

public sealed class EmbeddedStoreContractTests : StoreContractTests, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bonnie-store-contract", Guid.NewGuid().ToString("N"));
    private Bonnie.Pipeline.Storage.Embedded.EmbeddedStore? _store;

    protected override Task<IBonnieStore> CreateStoreAsync()
    {
        _store = new Bonnie.Pipeline.Storage.Embedded.EmbeddedStore(_dir, 16, Microsoft.Extensions.Logging.Abstractions.NullLogger<Bonnie.Pipeline.Storage.Embedded.EmbeddedStore>.Instance);
        return Task.FromResult<IBonnieStore>(_store);
    }

    protected override async Task DestroyStoreAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose() => _store?.Dispose();
}
