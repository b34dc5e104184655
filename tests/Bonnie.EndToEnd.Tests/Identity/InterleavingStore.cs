using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>
/// The real store, letting another writer in just before the first commit that writes only folders (the
/// re-resolution's): the race a worker may win in production, made to happen every time.
/// </summary>
internal sealed class InterleavingStore(IBonnieStore inner, Func<Task> otherWriter) : IBonnieStore
{
    private int _interleaved;

    public async Task CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default)
    {
        if (batch.Folders.Count > 0 && batch.Events.Count == 0 && Interlocked.Exchange(ref _interleaved, 1) == 0)
        {
            await otherWriter();
        }
        await inner.CommitAsync(batch, cancellationToken);
    }

    public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);
    public Task<IReadOnlySet<string>> FindProcessedJobsAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default)
        => inner.FindProcessedJobsAsync(jobIds, cancellationToken);
    public Task<FolderObject?> GetFolderAsync(string folderId, CancellationToken cancellationToken = default) => inner.GetFolderAsync(folderId, cancellationToken);
    public Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken = default) => inner.FindFolderByNameAsync(name, cancellationToken);
    public Task<IReadOnlyList<FolderObject>> FindFoldersBelowAsync(string name, CancellationToken cancellationToken = default)
        => inner.FindFoldersBelowAsync(name, cancellationToken);
    public Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken = default) => inner.GetMessageAsync(key, cancellationToken);
    public Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
        => inner.FindMessageAtAsync(folderId, uid, cancellationToken);
    public Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default)
        => inner.FindMessageOnceAtAsync(folderId, uid, cancellationToken);
    public Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken = default)
        => inner.FindMessagesInFolderAsync(folderId, cancellationToken);
    public Task<SessionObject?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default) => inner.GetSessionAsync(sessionId, cancellationToken);
    public Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken = default) => inner.GetEventAsync(eventId, cancellationToken);
    public Task<EventPage> SearchEventsAsync(EventSearch search, CancellationToken cancellationToken = default) => inner.SearchEventsAsync(search, cancellationToken);
    public Task<FeedPage> ReadFeedAsync(FeedRequest request, CancellationToken cancellationToken = default) => inner.ReadFeedAsync(request, cancellationToken);
    public Task<IReadOnlyList<ChangeRecord>> GetChangesAsync(ObjectKind kind, string objectId, CancellationToken cancellationToken = default)
        => inner.GetChangesAsync(kind, objectId, cancellationToken);
    public Task<IReadOnlyList<StoredEvent>> GetEventsForObjectAsync(ObjectKind kind, string objectId, int limit, CancellationToken cancellationToken = default)
        => inner.GetEventsForObjectAsync(kind, objectId, limit, cancellationToken);
    public Task<IReadOnlyList<SessionObject>> GetSessionsForUserAsync(string login, int limit, CancellationToken cancellationToken = default)
        => inner.GetSessionsForUserAsync(login, limit, cancellationToken);
    public Task<QuarantinePage> GetQuarantineAsync(int limit, string? cursor, CancellationToken cancellationToken = default)
        => inner.GetQuarantineAsync(limit, cursor, cancellationToken);

    public Task<StoreCounts> GetCountsAsync(CancellationToken cancellationToken = default) => inner.GetCountsAsync(cancellationToken);
    public Task<PersonRecord?> GetPersonAsync(string personId, CancellationToken cancellationToken = default) => inner.GetPersonAsync(personId, cancellationToken);
    public Task<IReadOnlyList<StoredEvent>> GetPendingIdentityAsync(int limit, CancellationToken cancellationToken = default)
        => inner.GetPendingIdentityAsync(limit, cancellationToken);
    public Task<IReadOnlyList<FolderObject>> GetFoldersWithPendingSubjectsAsync(int limit, CancellationToken cancellationToken = default)
        => inner.GetFoldersWithPendingSubjectsAsync(limit, cancellationToken);
    public Task UpdateIdentityAsync(IReadOnlyList<IdentityUpdate> updates, IReadOnlyList<PersonSighting> people, CancellationToken cancellationToken = default)
        => inner.UpdateIdentityAsync(updates, people, cancellationToken);
}
