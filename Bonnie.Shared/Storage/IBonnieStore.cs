using Bonnie.Shared.Search;

namespace Bonnie.Shared.Storage;

/// <summary>
/// The audit trail and every item's history. Implemented by the embedded store (SQLite + files) and, at scale,
/// by Elasticsearch; the same contract tests run against both.
/// </summary>
/// <remarks>
/// Writers read objects through the lookups below and write everything a batch of jobs produced with one
/// <see cref="CommitAsync"/>. Reads never see a half-written batch.
/// </remarks>
public interface IBonnieStore : IObjectLookups
{
    /// <summary>Creates or migrates the schema/indices. Safe to call on every start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Which of these job ids are done for good: their event is stored, or their notification was quarantined as
    /// unreadable. A job quarantined because its processing failed is not done: a retry may store it.
    /// </summary>
    Task<IReadOnlySet<string>> FindProcessedJobsAsync(IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken = default);

    /// <summary>Writes the batch atomically: all of it or nothing.</summary>
    Task CommitAsync(StoreBatch batch, CancellationToken cancellationToken = default);

    /// <summary>One event with its raw notification; null when unknown.</summary>
    Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken cancellationToken = default);
    /// <summary>Events matching a parsed query, newest first unless asked otherwise, with keyset paging and facets.</summary>
    Task<EventPage> SearchEventsAsync(EventSearch search, CancellationToken cancellationToken = default);
    /// <summary>
    /// Events matching a parsed query in the order they were stored, for following the trail as it grows: an event
    /// stored late (with an older time) comes after what was read before it, never behind a position already passed.
    /// </summary>
    Task<FeedPage> ReadFeedAsync(FeedRequest request, CancellationToken cancellationToken = default);
    /// <summary>
    /// Every change to one object in the order it was derived (commit order), so each record's from is the one
    /// before's to; events processed out of time order keep their own times.
    /// </summary>
    Task<IReadOnlyList<ChangeRecord>> GetChangesAsync(ObjectKind kind, string objectId, CancellationToken cancellationToken = default);
    /// <summary>Events that touched a message (by key) or a folder (by id), oldest first.</summary>
    Task<IReadOnlyList<StoredEvent>> GetEventsForObjectAsync(ObjectKind kind, string objectId, int limit, CancellationToken cancellationToken = default);
    /// <summary>A user's sessions, newest first.</summary>
    Task<IReadOnlyList<SessionObject>> GetSessionsForUserAsync(string login, int limit, CancellationToken cancellationToken = default);
    Task<QuarantinePage> GetQuarantineAsync(int limit, string? cursor, CancellationToken cancellationToken = default);
    /// <summary>How many events and quarantined notifications the store holds (the home page's counts).</summary>
    Task<StoreCounts> GetCountsAsync(CancellationToken cancellationToken = default);

    /// <summary>A person's record: every name they carried, and the count of their events; null when unknown.</summary>
    Task<PersonRecord?> GetPersonAsync(string personId, CancellationToken cancellationToken = default);
    /// <summary>Events whose identity is <see cref="IdentityStatus.Pending"/>, oldest first.</summary>
    Task<IReadOnlyList<StoredEvent>> GetPendingIdentityAsync(int limit, CancellationToken cancellationToken = default);
    /// <summary>
    /// Folders with an ACL subject or owner whose snapshot is still pending (<see cref="FolderObject.HasPendingSubjects"/>),
    /// at most <paramref name="limit"/>, by id, each with its version: the re-resolution fills them in and commits them back.
    /// </summary>
    Task<IReadOnlyList<FolderObject>> GetFoldersWithPendingSubjectsAsync(int limit, CancellationToken cancellationToken = default);
    /// <summary>Replaces stored events' identities and merges the sightings into the person records, atomically.</summary>
    Task UpdateIdentityAsync(IReadOnlyList<IdentityUpdate> updates, IReadOnlyList<PersonSighting> people, CancellationToken cancellationToken = default);
}

/// <summary>
/// What the handlers read while they work out a batch: the objects as the store has them (a store may answer from
/// memory). All a unit of work needs of the store.
/// </summary>
public interface IObjectLookups
{
    Task<FolderObject?> GetFolderAsync(string folderId, CancellationToken cancellationToken = default);
    /// <summary>The existing folder currently named <paramref name="name"/> (admin form, case-insensitive).</summary>
    Task<FolderObject?> FindFolderByNameAsync(string name, CancellationToken cancellationToken = default);
    /// <summary>
    /// The existing folders below <paramref name="name"/> in the hierarchy (see <see cref="FolderNames"/>): Cyrus
    /// renames a folder's children with it, and deletes a user's folders with the INBOX, and notifies neither.
    /// </summary>
    Task<IReadOnlyList<FolderObject>> FindFoldersBelowAsync(string name, CancellationToken cancellationToken = default);
    Task<MessageObject?> GetMessageAsync(string key, CancellationToken cancellationToken = default);
    /// <summary>The message currently at <paramref name="folderId"/>/<paramref name="uid"/>, if any.</summary>
    Task<MessageObject?> FindMessageAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default);
    /// <summary>
    /// The message that is or once was at <paramref name="folderId"/>/<paramref name="uid"/> (a UID is never given
    /// twice in a folder): the expunge Cyrus sends for a MOVE's source may be processed before the MOVE itself.
    /// </summary>
    Task<MessageObject?> FindMessageOnceAtAsync(string folderId, uint uid, CancellationToken cancellationToken = default);
    /// <summary>Every message currently in the folder (its deletion ends them all).</summary>
    Task<IReadOnlyList<MessageObject>> FindMessagesInFolderAsync(string folderId, CancellationToken cancellationToken = default);
    Task<SessionObject?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default);
}

/// <summary>Message payloads, byte-exact, content-addressed by SHA-256: stored once however many mailboxes hold them.</summary>
public interface IPayloadStore
{
    /// <summary>Stores the bytes (a no-op when already present) and returns their hex SHA-256.</summary>
    Task<string> PutAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default);
    /// <summary>The exact bytes stored under <paramref name="sha256"/>, or null.</summary>
    Task<byte[]?> GetAsync(string sha256, CancellationToken cancellationToken = default);
    Task<bool> ExistsAsync(string sha256, CancellationToken cancellationToken = default);
}

/// <summary>
/// Thrown by <see cref="IBonnieStore.CommitAsync"/> when another writer changed an object since it was read, or
/// an event of the batch is already stored. Nothing was written; the caller recomputes the batch and tries again.
/// </summary>
public sealed class StoreConflictException : Exception
{
    public StoreConflictException() : base("Another writer changed the same objects; nothing was written.") { }
    public StoreConflictException(string message) : base(message) { }
    public StoreConflictException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>What the store holds, counted.</summary>
public sealed record StoreCounts(long Events, long Quarantined);
