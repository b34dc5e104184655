using Bonnie.Shared.Events;

namespace Bonnie.Shared.Storage;

/// <summary>
/// An event as the store keeps it: the enriched fields officers search on, and the notification bytes unchanged.
/// <see cref="Id"/> is the job id (hex SHA-256 of the notification).
/// </summary>
public sealed record StoredEvent
{
    public required string Id { get; init; }
    /// <summary>Time-ordered position in the trail (assigned by the store); the cursor for paging.</summary>
    public long Sequence { get; init; }
    public required EventType Type { get; init; }
    public required string Name { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public string? User { get; init; }
    public string? Service { get; init; }
    public string? SessionId { get; init; }
    public string? ClientIp { get; init; }
    public string? FolderId { get; init; }
    /// <summary>Admin form, as named by the event.</summary>
    public string? FolderName { get; init; }
    public string? FolderPath { get; init; }
    /// <summary>Copy, move, rename: the source folder's id (when known) and name.</summary>
    public string? OldFolderId { get; init; }
    public string? OldFolderName { get; init; }
    public string? Uids { get; init; }
    public IReadOnlyList<string> MessageIds { get; init; } = [];
    /// <summary>Keys of the message objects the event touched (<see cref="MessageObject.Key"/>).</summary>
    public IReadOnlyList<string> MessageKeys { get; init; } = [];
    public string? Subject { get; init; }
    public IReadOnlyList<string> From { get; init; } = [];
    /// <summary>To and Cc addresses.</summary>
    public IReadOnlyList<string> To { get; init; } = [];
    public IReadOnlyList<string> Flags { get; init; } = [];
    public long? Size { get; init; }
    public PayloadStatus PayloadStatus { get; init; }
    public string? PayloadSha256 { get; init; }
    /// <summary>Hex SHA-256 of <see cref="Raw"/>.</summary>
    public required string RawSha256 { get; init; }
    /// <summary>The notification exactly as received; empty in search results, filled by a lookup by id.</summary>
    public ReadOnlyMemory<byte> Raw { get; init; }
    /// <summary>Who the user was when the event was stored (or re-resolved); null for events stored before identity.</summary>
    public EventIdentity? Identity { get; init; }
    /// <summary>Text of the payload's body for full-text search; written, not read back.</summary>
    public string? BodyText { get; init; }
}

/// <summary>A notification that could not be processed: kept with the reason and its bytes, never dropped.</summary>
public sealed record QuarantineItem
{
    public long Sequence { get; init; }
    public required string JobId { get; init; }
    public required DateTimeOffset At { get; init; }
    /// <summary>One of <see cref="QuarantineStages"/>.</summary>
    public required string Stage { get; init; }
    public required string Reason { get; init; }
    public required string RawSha256 { get; init; }
    public ReadOnlyMemory<byte> Raw { get; init; }
    /// <summary>
    /// Read, never written: the job's event is in the store now (a retry succeeded after the failure recorded here).
    /// The record stays, because that it once failed, and why, is part of the trail.
    /// </summary>
    public bool EventStored { get; init; }
}

/// <summary>Why a notification is in the quarantine, and how a second record for the same job is kept.</summary>
public static class QuarantineStages
{
    /// <summary>The notification cannot be read; it never will be, so the first record stands.</summary>
    public const string Parse = "parse";
    /// <summary>A handler failed on it. A later failure of the same job (after a retry) replaces the reason and time.</summary>
    public const string Failed = "failed";
    /// <summary>
    /// The broker gave up on it (its attempts used up by missed deadlines, lost workers or postponements) before any
    /// worker stored or quarantined it. Kept only where nothing is recorded for the job yet: a worker's own record says more.
    /// </summary>
    public const string Broker = "broker";
}

/// <summary>A page of quarantined notifications, newest first.</summary>
public sealed record QuarantinePage(IReadOnlyList<QuarantineItem> Items, string? Next);
