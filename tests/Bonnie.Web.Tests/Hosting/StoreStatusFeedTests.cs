using Bonnie.Pipeline.Status;
using Bonnie.Shared.Storage;
using Bonnie.Web.Hosting;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Web.Tests.Hosting;

public sealed class StoreStatusFeedTests
{
    [Fact]
    public async Task EventsAndQuarantineStored_CountedIntoTheStatusTheHomePageShows()
    {
        // Found by a review: the home page's "Events stored" and "Quarantined" said "not reported" for ever; nothing counted them.
        await using var store = await TestStore.CreateAsync();
        await store.ProcessAsync(TestStore.Job("MailboxCreate"), TestStore.Job("Login"), TestStore.Raw("{\"event\":"u8.ToArray()));
        var status = new SystemStatus();
        var feed = new StoreStatusFeed(store.Store, status, TimeProvider.System, NullLogger<StoreStatusFeed>.Instance);

        await feed.CountOnceAsync(CancellationToken.None);

        Assert.Equal((2L, 1L), (status.Current.EventsStored, status.Current.Quarantined));
    }

    [Fact]
    public async Task StoreCannotAnswer_TheLastCountsStand()
    {
        var status = new SystemStatus();
        status.Update(s => s with { EventsStored = 7, Quarantined = 1 });
        var feed = new StoreStatusFeed(new DownStore(), status, TimeProvider.System, NullLogger<StoreStatusFeed>.Instance);

        await feed.CountOnceAsync(CancellationToken.None);

        Assert.Equal((7L, 1L), (status.Current.EventsStored, status.Current.Quarantined));
    }

    private sealed class DownStore : IBonnieStore
    {
        private static IOException Down() => new("the store is down");
        public Task InitializeAsync(CancellationToken cancellationToken = default) => throw Down();
        public Task CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlySet<string>> FindProcessedJobsAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default) => throw Down();
        public Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken = default) => throw Down();
        public Task<Bonnie.Shared.Search.EventPage> SearchEventsAsync(Bonnie.Shared.Search.EventSearch search, CancellationToken cancellationToken = default) => throw Down();
        public Task<Bonnie.Shared.Search.FeedPage> ReadFeedAsync(Bonnie.Shared.Search.FeedRequest request, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<ChangeRecord>> GetChangesAsync(ObjectKind kind, string objectId, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<StoredEvent>> GetEventsForObjectAsync(ObjectKind kind, string objectId, int limit, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<SessionObject>> GetSessionsForUserAsync(string login, int limit, CancellationToken cancellationToken = default) => throw Down();
        public Task<QuarantinePage> GetQuarantineAsync(int limit, string? cursor, CancellationToken cancellationToken = default) => throw Down();
        public Task<StoreCounts> GetCountsAsync(CancellationToken cancellationToken = default) => throw Down();
        public Task<PersonRecord?> GetPersonAsync(string personId, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<StoredEvent>> GetPendingIdentityAsync(int limit, CancellationToken cancellationToken = default) => throw Down();
        public Task UpdateIdentityAsync(IReadOnlyList<IdentityUpdate> updates, IReadOnlyList<PersonSighting> people, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<FolderObject>> GetFoldersWithPendingSubjectsAsync(int limit, CancellationToken cancellationToken = default) => throw Down();
        public Task<FolderObject?> GetFolderAsync(string folderId, CancellationToken cancellationToken = default) => throw Down();
        public Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<FolderObject>> FindFoldersBelowAsync(string name, CancellationToken cancellationToken = default) => throw Down();
        public Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken = default) => throw Down();
        public Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default) => throw Down();
        public Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default) => throw Down();
        public Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken = default) => throw Down();
        public Task<SessionObject?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) => throw Down();
    }
}
