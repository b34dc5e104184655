using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Backfill;

/// <summary>A folder as the backfill found it.</summary>
internal sealed record FoundFolder(string Id, string Name, string? Owner, uint UidValidity, IReadOnlyDictionary<string, string> Acl,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>A message as the backfill found it at one folder and UID, its payload already archived (or not).</summary>
/// <param name="Senders">Every From address as events keep them (<c>Name &lt;address&gt;</c>); <paramref name="From"/> is the first one's address.</param>
/// <param name="Recipients">To and Cc, as events keep them.</param>
/// <param name="BodyText">The body's text for full-text search, when the payload was fetched in this run.</param>
internal sealed record FoundMessage(
    string Key, string? EmailId, string? MessageId, long? Size, string? Subject, string? From, uint Uid, IReadOnlyCollection<string> Flags,
    PayloadStatus PayloadStatus, string? PayloadSha256, DateTimeOffset? InternalDate = null,
    IReadOnlyList<string>? Senders = null, IReadOnlyList<string>? Recipients = null, string? BodyText = null);

/// <summary>
/// Writes what a backfill finds through the same unit of work as the handlers, but as discoveries: objects are
/// written as they are now, marked <see cref="LocationOrigin.Backfill"/>, with no change record, because nothing was
/// seen to change. Each place a message is found at is one <see cref="EventType.MessageFound"/> event of Bonnie's own
/// (<see cref="FoundEventAsync"/>), so that the search, and with it export and restore by query, reach mail that was on the
/// server before Bonnie listened (a review found an evidence bundle for such a custodian verified and empty).
/// Idempotent: a folder, or a message already at that folder and UID (by GUID email id) with its found event, is left
/// alone, so a second run writes nothing.
/// </summary>
internal sealed class BackfillWriter(IBonnieStore store, TimeProvider time, IIdentityEnricher? identity = null, IPayloadStore? payloads = null)
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
            if (await CommitAsync(work.ToBatch(), attempt, cancellationToken).ConfigureAwait(false) is { } written)
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
        var message = await MessageHistory.ResolveAsync(store, key, cancellationToken).ConfigureAwait(false);
        return message?.CurrentAt(folderId, uid) is not null && message.PayloadSha256 is not null;
    }

    /// <summary>Records the messages found in one folder; returns how many locations were new.</summary>
    public async Task<int> RecordMessagesAsync(FoundFolder folder, IReadOnlyList<FoundMessage> found, CancellationToken cancellationToken)
    {
        // Who the folder's owner is now, asked once and only when a found event is to carry it (as the worker's events
        // do): a run over places already recorded asks the directory nothing.
        Enrichment? owner = null;
        var ownerAsked = false;
        for (var attempt = 1; ; attempt++)
        {
            var work = new UnitOfWork(store);
            var recorded = 0;
            var now = time.GetUtcNow();
            var places = new List<(FoundMessage Found, MessageObject Message, MessageLocation Location, string EventId)>();
            foreach (var m in found)
            {
                // A key that only points to the message it turned out to be (a merged sighting, or an email id whose
                // delivery joined a sighting) is recorded on that message, not on the pointer.
                var message = await MessageHistory.FollowAsync(await work.GetMessageAsync(m.Key, cancellationToken).ConfigureAwait(false),
                    k => work.GetMessageAsync(k, cancellationToken)).ConfigureAwait(false);
                var bytesNow = false;
                if (message is null)
                {
                    message = work.DiscoverMessage(m.Key, now, o => Describe(o, m));
                }
                else
                {
                    bytesNow = Describe(message, m);
                }
                var location = message.CurrentAt(folder.Id, m.Uid);
                if (location is null)
                {
                    location = new MessageLocation
                    {
                        // Since the server's INTERNALDATE (when the message arrived; a copy keeps its original's), not the
                        // backfill's own time: a restore gives it back as the internal date, and a review found restored
                        // mail dated the day of the backfill.
                        FolderId = folder.Id, Uid = m.Uid, FolderName = folder.Name, Origin = LocationOrigin.Backfill,
                        Since = m.InternalDate is { } arrived && arrived <= now ? arrived : now,
                    };
                    location.Flags.UnionWith(m.Flags);
                    work.AddLocation(message, location);
                    recorded++;
                }
                else if (location.Origin != LocationOrigin.Backfill && !bytesNow)
                {
                    // Events recorded this place: its delivery or copy already finds it. Unless the backfill brought the
                    // bytes its delivery could not keep: then its found event says when and where they were read (a live
                    // review found them filled in with no trace in the message's history).
                    continue;
                }
                // A place found now, or by a run of a version that recorded no found events: either way it needs its event.
                places.Add((m, message, location, FoundEventId(folder, m.Uid)));
            }
            var events = new List<StoredEvent>();
            if (places.Count > 0)
            {
                var stored = await store.FindProcessedJobsAsync(places.ConvertAll(p => p.EventId), cancellationToken).ConfigureAwait(false);
                var missing = places.FindAll(p => !stored.Contains(p.EventId));
                if (missing.Count > 0 && !ownerAsked && folder.Owner is { Length: > 0 } login && identity is not null)
                {
                    owner = await identity.EnrichAsync(login, now, cancellationToken).ConfigureAwait(false);
                    ownerAsked = true;
                }
                foreach (var (m, message, location, id) in missing)
                {
                    events.Add(await FoundEventAsync(id, folder, m, message, location, owner, now, cancellationToken).ConfigureAwait(false));
                }
            }
            if (events.Count > 0)
            {
                work.SeeUser(folder.Owner, events.Min(e => e.Timestamp));
            }
            var batch = work.ToBatch();
            batch.Events.AddRange(events);
            if (events.Count > 0 && owner?.Person is { } person)
            {
                batch.People.Add(person with { At = events.Max(e => e.Timestamp) });
            }
            if (await CommitAsync(batch, attempt, cancellationToken).ConfigureAwait(false) is not null)
            {
                return recorded;
            }
        }
    }

    /// <summary>The id of the found event of a place: one per folder, UIDVALIDITY and UID, whichever run finds it.</summary>
    internal static string FoundEventId(FoundFolder folder, uint uid) =>
        "backfill-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join('\n', folder.Id, folder.UidValidity.ToString(CultureInfo.InvariantCulture), uid.ToString(CultureInfo.InvariantCulture)))))[..40];

    /// <summary>
    /// The event that says the backfill found the message at this place. Its time is the server's INTERNALDATE (when the
    /// message arrived there, so that <c>after:</c> and <c>before:</c> and the per-day chart mean the mail's dates, not
    /// the day of the backfill); when Bonnie found it is its received time. Its record is Bonnie's own JSON, which says
    /// so, in place of a notification.
    /// </summary>
    private async Task<StoredEvent> FoundEventAsync(string id, FoundFolder folder, FoundMessage m, MessageObject message, MessageLocation location,
        Enrichment? owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var raw = FoundRecord(folder, m, message, location, now);
        var body = m.BodyText;
        if (body is null && payloads is not null && message.PayloadSha256 is { } sha256)
        {
            try
            {
                if (await payloads.GetAsync(sha256, cancellationToken).ConfigureAwait(false) is { } bytes)
                {
                    body = PayloadFetcher.BodyText(bytes);
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                // The event is what matters; without the body's words it is still found by its fields.
            }
        }
        var mailbox = MailboxUri.TryParse("imap://backfill/" + Uri.EscapeDataString(folder.Name), out var parsed) ? parsed : null;
        return new StoredEvent
        {
            Id = id,
            Type = EventType.MessageFound,
            Name = FoundEventName,
            // The server's INTERNALDATE as read now; a place an earlier version recorded may carry the time of that
            // backfill as its start instead.
            Timestamp = m.InternalDate is { } arrived && arrived <= now ? arrived : location.Since,
            ReceivedAt = now,
            User = folder.Owner,
            Service = "backfill",
            FolderId = folder.Id,
            FolderName = folder.Name,
            FolderPath = mailbox?.FolderPath,
            Uids = m.Uid.ToString(CultureInfo.InvariantCulture),
            MessageIds = (message.MessageId ?? m.MessageId) is { } mid ? [mid] : [],
            MessageKeys = [message.Key],
            Subject = message.Subject ?? m.Subject,
            From = m.Senders ?? (m.From is { } from ? [from] : []),
            To = m.Recipients ?? [],
            Flags = [.. location.Flags],
            Size = message.Size ?? m.Size,
            PayloadStatus = message.PayloadStatus,
            PayloadSha256 = message.PayloadSha256,
            BodyText = body,
            Identity = owner?.Identity,
            RawSha256 = Convert.ToHexStringLower(SHA256.HashData(raw)),
            Raw = raw,
        };
    }

    /// <summary>The name of <see cref="EventType.MessageFound"/> events, in the vendor form Cyrus uses for its own.</summary>
    internal const string FoundEventName = "vnd.bonnie.MessageFound";

    private static byte[] FoundRecord(FoundFolder folder, FoundMessage m, MessageObject message, MessageLocation location, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", FoundEventName);
            json.WriteString("recordedBy", "Bonnie backfill: found over IMAP as the Cyrus admin; not a notification from Cyrus");
            json.WriteString("foundAt", now.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("mailbox", folder.Name);
            json.WriteString("folderId", folder.Id);
            json.WriteNumber("uidValidity", folder.UidValidity);
            json.WriteNumber("uid", m.Uid);
            if (m.InternalDate is { } internalDate)
            {
                json.WriteString("internalDate", internalDate.ToString("O", CultureInfo.InvariantCulture));
            }
            json.WriteString("messageKey", message.Key);
            WriteOptional(json, "emailId", m.EmailId ?? message.EmailId);
            WriteOptional(json, "messageId", m.MessageId ?? message.MessageId);
            if ((m.Size ?? message.Size) is { } size)
            {
                json.WriteNumber("size", size);
            }
            json.WriteStartArray("flags");
            foreach (var flag in location.Flags)
            {
                json.WriteStringValue(flag);
            }
            json.WriteEndArray();
            json.WriteString("payloadStatus", message.PayloadStatus.ToString());
            WriteOptional(json, "payloadSha256", message.PayloadSha256);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    /// <summary>Fills in only what is unknown: what events recorded stays as they recorded it.</summary>
    /// <returns>Whether the message's bytes were missing and are kept now.</returns>
    private static bool Describe(MessageObject message, FoundMessage m)
    {
        message.EmailId ??= m.EmailId;
        message.MessageId ??= m.MessageId;
        message.Size ??= m.Size;
        message.Subject ??= m.Subject;
        message.From ??= m.From;
        message.InternalDate ??= m.InternalDate;
        if (m.PayloadSha256 is not null && message.PayloadStatus is PayloadStatus.None or PayloadStatus.Missing)
        {
            var wasMissing = message.PayloadStatus == PayloadStatus.Missing;
            message.PayloadStatus = m.PayloadStatus;
            message.PayloadSha256 = m.PayloadSha256;
            return wasMissing;
        }
        return false;
    }

    /// <returns>Whether anything was written; null when a concurrent writer won and the work must be redone.</returns>
    private async Task<bool?> CommitAsync(StoreBatch batch, int attempt, CancellationToken cancellationToken)
    {
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
