using Bonnie.Pipeline.Storage;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Backfill;

/// <summary>A folder as the backfill found it.</summary>
internal sealed record FoundFolder(string Id, string Name, string? Owner, uint UidValidity, IReadOnlyDictionary<string, string> Acl,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>A message as the backfill found it at one folder and UID, its payload already archived (or not).</summary>
internal sealed record FoundMessage(
    string Key, string? EmailId, string? MessageId, long? Size, string? Subject, string? From, uint Uid, IReadOnlyCollection<string> Flags,
    PayloadStatus PayloadStatus, string? PayloadSha256, DateTimeOffset? InternalDate = null);

/// <summary>
/// Writes what a backfill finds through the same unit of work as the handlers, but as discoveries: objects are
/// written as they are now, marked <see cref="LocationOrigin.Backfill"/>, with no event and no change record,
/// because nothing was seen to happen. Idempotent: a folder or a message already at that folder and UID (by GUID
/// email id) is left alone, so a second run writes nothing.
/// </summary>
internal sealed class BackfillWriter(IBonnieStore store, TimeProvider time)
{
    private const int ConflictRetries = 5;

    /// <summary>Records the folder unless the store knows it; true when something was written.</summary>
    public async Task<bool> RecordFolderAsync(FoundFolder found, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var work = new UnitOfWork(store);
            var folder = await work.GetFolderAsync(found.Id, cancellationToken).ConfigureAwait(false);
            if (folder is null)
            {
                work.DiscoverFolder(found.Id, found.Name, time.GetUtcNow(), f =>
                {
                    f.Owner = found.Owner;
                    f.UidValidity = found.UidValidity;
                    f.FoundBy = LocationOrigin.Backfill;
                    Fill(f.Acl, found.Acl);
                    Fill(f.Metadata, found.Metadata);
                });
            }
            else if ((folder.Acl.Count == 0 && found.Acl.Count > 0) || (folder.Metadata.Count == 0 && found.Metadata.Count > 0))
            {
                // Known from events that never reported its ACL, or while METADATA was not read: what is found now for
                // what Bonnie did not have is knowledge, not a change. What Bonnie had stays as its events left it.
                work.Learn(folder, f =>
                {
                    if (f.Acl.Count == 0)
                    {
                        Fill(f.Acl, found.Acl);
                    }
                    if (f.Metadata.Count == 0)
                    {
                        Fill(f.Metadata, found.Metadata);
                    }
                });
            }
            if (await CommitAsync(work, attempt, cancellationToken).ConfigureAwait(false) is { } written)
            {
                return written;
            }
        }
    }

    private static void Fill(SortedDictionary<string, string> into, IReadOnlyDictionary<string, string> found)
    {
        foreach (var (key, value) in found)
        {
            into[key] = value;
        }
    }

    /// <summary>Whether the message is already recorded at this folder and UID with its payload: no need to fetch it again.</summary>
    public async Task<bool> IsArchivedAtAsync(string key, string folderId, uint uid, CancellationToken cancellationToken)
    {
        var message = await store.GetMessageAsync(key, cancellationToken).ConfigureAwait(false);
        return message?.CurrentAt(folderId, uid) is not null && message.PayloadSha256 is not null;
    }

    /// <summary>Records the messages found in one folder; returns how many locations were new.</summary>
    public async Task<int> RecordMessagesAsync(FoundFolder folder, IReadOnlyList<FoundMessage> found, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var work = new UnitOfWork(store);
            var recorded = 0;
            var now = time.GetUtcNow();
            foreach (var m in found)
            {
                var message = await work.GetMessageAsync(m.Key, cancellationToken).ConfigureAwait(false);
                if (message is null)
                {
                    message = work.DiscoverMessage(m.Key, now, o => Describe(o, m));
                }
                else
                {
                    Describe(message, m);
                }
                if (message.CurrentAt(folder.Id, m.Uid) is null)
                {
                    var location = new MessageLocation
                    {
                        // Since the server's INTERNALDATE (when the message arrived; a copy keeps its original's), not the
                        // backfill's own time: a restore gives it back as the internal date, and a review found restored
                        // mail dated the day of the backfill.
                        FolderId = folder.Id, Uid = m.Uid, FolderName = folder.Name, Origin = LocationOrigin.Backfill,
                        Since = m.InternalDate is { } arrived && arrived <= now ? arrived : now,
                    };
                    location.Flags.UnionWith(m.Flags);
                    message.Locations.Add(location);
                    recorded++;
                }
            }
            if (await CommitAsync(work, attempt, cancellationToken).ConfigureAwait(false) is not null)
            {
                return recorded;
            }
        }
    }

    /// <summary>Fills in only what is unknown: what events recorded stays as they recorded it.</summary>
    private static void Describe(MessageObject message, FoundMessage m)
    {
        message.EmailId ??= m.EmailId;
        message.MessageId ??= m.MessageId;
        message.Size ??= m.Size;
        message.Subject ??= m.Subject;
        message.From ??= m.From;
        if (m.PayloadSha256 is not null && message.PayloadStatus is PayloadStatus.None or PayloadStatus.Missing)
        {
            message.PayloadStatus = m.PayloadStatus;
            message.PayloadSha256 = m.PayloadSha256;
        }
    }

    /// <returns>Whether anything was written; null when a concurrent writer won and the work must be redone.</returns>
    private async Task<bool?> CommitAsync(UnitOfWork work, int attempt, CancellationToken cancellationToken)
    {
        var batch = work.ToBatch();
        if (batch.IsEmpty)
        {
            return false;
        }
        try
        {
            await store.CommitAsync(batch, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StoreConflictException) when (attempt < ConflictRetries)
        {
            // A worker changed the same objects meanwhile (users keep working during a backfill): read again.
            return null;
        }
    }
}
