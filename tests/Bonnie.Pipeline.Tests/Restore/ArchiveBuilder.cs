using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Restore;

/// <summary>
/// A real embedded store filled directly, as the handlers would have left it: folders, messages with their
/// location history, the events that touched them, and payloads.
/// </summary>
internal sealed class ArchiveBuilder : IAsyncDisposable
{
    private int _events;

    private ArchiveBuilder(string directory)
    {
        Directory = directory;
        Store = new EmbeddedStore(Path.Combine(directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        Payloads = new PayloadDirectory(Path.Combine(directory, "store", "payloads"), compress: true);
    }

    public string Directory { get; }
    public EmbeddedStore Store { get; }
    public PayloadDirectory Payloads { get; }

    public static async Task<ArchiveBuilder> CreateAsync()
    {
        var b = new ArchiveBuilder(Path.Combine(Path.GetTempPath(), "bonnie-archive-tests", Guid.NewGuid().ToString("N")));
        await b.Store.InitializeAsync();
        return b;
    }

    public async Task<FolderObject> FolderAsync(string id, string name, DateTimeOffset created, DateTimeOffset? deleted = null)
    {
        var folder = new FolderObject { Id = id, Name = name, Owner = Bonnie.Pipeline.Restore.CyrusMailboxName.OwnerOf(name), FirstSeen = created, Exists = deleted is null };
        var batch = new StoreBatch();
        batch.Folders[id] = folder;
        var create = Event(EventType.MailboxCreate, created, id, name, []);
        batch.Events.Add(create);
        batch.Changes.Add(Change(ObjectKind.Folder, id, ChangeAspect.Existence, "absent", "present", created, create.Id));
        if (deleted is { } d)
        {
            var delete = Event(EventType.MailboxDelete, d, id, name, []);
            batch.Events.Add(delete);
            batch.Changes.Add(Change(ObjectKind.Folder, id, ChangeAspect.Existence, "present", "absent", d, delete.Id));
        }
        await Store.CommitAsync(batch);
        return folder;
    }

    /// <summary>A message with its bytes kept, delivered into <paramref name="folder"/> at <paramref name="since"/>.</summary>
    public async Task<(MessageObject Message, byte[] Bytes)> MessageAsync(FolderObject folder, uint uid, string subject, DateTimeOffset since,
        DateTimeOffset? until = null, string? endReason = null, string[]? flags = null, bool keepPayload = true, string? body = null)
    {
        var bytes = Encoding.UTF8.GetBytes(
            $"From: Sender <sender@example.net>\r\nTo: {folder.Owner}\r\nCc: cc@example.net\r\nSubject: {subject}\r\nMessage-ID: <{Guid.NewGuid():N}@test>\r\n"
            + $"Date: Thu, 19 Nov 2026 10:00:00 +0000\r\n\r\n{body ?? "Body of " + subject}\r\n");
        var sha = keepPayload ? await Payloads.PutAsync(bytes) : Convert.ToHexStringLower(SHA256.HashData(bytes));
        var key = Bonnie.Pipeline.Restore.ImapRestorer.EmailIdOf(bytes);
        var location = new MessageLocation
        {
            FolderId = folder.Id, Uid = uid, FolderName = folder.Name, Since = since, Until = until, EndReason = endReason,
            Origin = LocationOrigin.Delivered, Flags = new(flags ?? [], StringComparer.OrdinalIgnoreCase),
        };
        var message = new MessageObject
        {
            Key = key, EmailId = key, Size = bytes.Length, Subject = subject, From = "sender@example.net", PayloadSha256 = sha,
            PayloadStatus = keepPayload ? PayloadStatus.Stored : PayloadStatus.Missing, FirstSeen = since, Locations = [location],
        };
        var batch = new StoreBatch();
        batch.Messages[key] = message;
        var arrival = Event(EventType.MessageNew, since, folder.Id, folder.Name, [key]);
        batch.Events.Add(arrival);
        batch.Changes.Add(Change(ObjectKind.Message, key, ChangeAspect.Location, null, location.Address, since, arrival.Id));
        if (until is { } u)
        {
            var gone = Event(EventType.MessageExpunge, u, folder.Id, folder.Name, [key]);
            batch.Events.Add(gone);
            batch.Changes.Add(Change(ObjectKind.Message, key, ChangeAspect.Location, location.Address, null, u, gone.Id));
        }
        await Store.CommitAsync(batch);
        return (message, bytes);
    }

    private StoredEvent Event(EventType type, DateTimeOffset at, string folderId, string folderName, IReadOnlyList<string> keys)
    {
        var raw = Encoding.UTF8.GetBytes($"{{\"event\":\"{type}\",\"n\":{++_events}}}");
        return new StoredEvent
        {
            Id = Convert.ToHexStringLower(SHA256.HashData(raw)), Type = type, Name = type.ToString(), Timestamp = at, ReceivedAt = at,
            FolderId = folderId, FolderName = folderName, MessageKeys = keys, RawSha256 = Convert.ToHexStringLower(SHA256.HashData(raw)), Raw = raw,
        };
    }

    private static ChangeRecord Change(ObjectKind kind, string id, ChangeAspect aspect, string? from, string? to, DateTimeOffset at, string eventId) => new()
    {
        Kind = kind, ObjectId = id, Aspect = aspect, From = from, To = to, At = at, EventId = eventId, Actor = new Actor("alice@example.org", null, null, "imap"),
    };

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
