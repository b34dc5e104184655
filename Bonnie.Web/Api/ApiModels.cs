using System.Text;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;

namespace Bonnie.Web.Api;

/// <summary>The JSON shapes of the API: plain records with enums as their names, stable for clients.</summary>
internal sealed record EventDto(
    string Id, string Type, string Name, DateTimeOffset Timestamp, DateTimeOffset ReceivedAt, string? User, string? Service,
    string? SessionId, string? ClientIp, string? FolderId, string? Folder, string? FolderPath, string? OldFolderId, string? OldFolder,
    string? Uids, IReadOnlyList<string> MessageIds, IReadOnlyList<string> MessageKeys, string? Subject, IReadOnlyList<string> From,
    IReadOnlyList<string> To, IReadOnlyList<string> Flags, long? Size, string PayloadStatus, string? PayloadSha256, string RawSha256,
    string? Raw, EventIdentity? Identity)
{
    public static EventDto Of(StoredEvent e, bool withRaw) => new(
        e.Id, e.Type.ToString(), e.Name, e.Timestamp, e.ReceivedAt, e.User, e.Service, e.SessionId, e.ClientIp, e.FolderId, e.FolderName,
        e.FolderPath, e.OldFolderId, e.OldFolderName, e.Uids, e.MessageIds, e.MessageKeys, e.Subject, e.From, e.To, e.Flags, e.Size,
        e.PayloadStatus.ToString(), e.PayloadSha256, e.RawSha256, withRaw ? Encoding.UTF8.GetString(e.Raw.Span) : null, e.Identity);
}

internal sealed record FeedPageDto(IReadOnlyList<EventDto> Items, string Next, bool CaughtUp);

internal sealed record EventPageDto(long Total, IReadOnlyList<EventDto> Items, string? Next, IReadOnlyDictionary<string, IReadOnlyList<FacetCount>>? Facets);

internal sealed record ChangeDto(
    string Kind, string ObjectId, string Aspect, string? Key, string? From, string? To, string? FolderId, string? FolderName, uint? Uid,
    string? User, string? SessionId, string? ClientIp, string? Service, DateTimeOffset At, string EventId)
{
    public static ChangeDto Of(ChangeRecord c) => new(
        c.Kind.ToString(), c.ObjectId, c.Aspect.ToString(), c.Key, c.From, c.To, c.FolderId, c.FolderName, c.Uid, c.Actor.User,
        c.Actor.SessionId, c.Actor.ClientIp, c.Actor.Service, c.At, c.EventId);
}

/// <param name="FolderName">The folder's name when the message came there.</param>
/// <param name="FolderNameNow">The folder's name now (after renames), when Bonnie knows the folder; null otherwise.</param>
internal sealed record LocationDto(string FolderId, string? FolderName, string? FolderNameNow, uint Uid, string? Origin, DateTimeOffset Since, DateTimeOffset? Until,
    string? EndReason, IReadOnlyCollection<string> Flags);

internal sealed record MessageDto(string Id, string? EmailId, string? MessageId, long? Size, string? Subject, string? From, bool Exists,
    string PayloadStatus, string? PayloadSha256, IReadOnlyList<LocationDto> Locations, IReadOnlyList<string> MergedFrom)
{
    public static MessageDto Of(MessageObject m, IReadOnlyDictionary<string, string>? namesNow = null) => new(m.Key, m.EmailId, m.MessageId, m.Size, m.Subject, m.From, m.Exists,
        m.PayloadStatus.ToString(), m.PayloadSha256,
        m.Locations.Select(l => new LocationDto(l.FolderId, l.FolderName, namesNow?.GetValueOrDefault(l.FolderId), l.Uid, l.Origin, l.Since, l.Until, l.EndReason, l.Flags))
            .ToList(),
        m.MergedFrom);
}

internal sealed record FolderDto(string Id, string Name, string? Owner, bool Exists, IReadOnlyDictionary<string, string> Acl,
    IReadOnlyCollection<string> Subscribers, IReadOnlyDictionary<string, long> Quota, string? QuotaState, uint? UidValidity, string? FoundBy,
    IReadOnlyDictionary<string, string> Metadata, string? SameAs)
{
    public static FolderDto Of(FolderObject f) => new(f.Id, f.Name, f.Owner, f.Exists, f.Acl, f.Subscribers, f.Quota, f.QuotaState,
        f.UidValidity, f.FoundBy, f.Metadata, f.SameAs);
}

internal sealed record HistoryDto<T>(T Item, IReadOnlyList<ChangeDto> Changes, IReadOnlyList<EventDto> Events);

internal sealed record SessionDto(string Id, string? User, string? Service, string? ClientIp, int? ClientPort, DateTimeOffset? LoginAt,
    DateTimeOffset? LogoutAt, double? DurationSeconds, bool Open, string? LoginEventId, string? LogoutEventId)
{
    public static SessionDto Of(SessionObject s) => new(s.Id, s.User, s.Service, s.ClientIp, s.ClientPort, s.LoginAt, s.LogoutAt,
        s.Duration?.TotalSeconds, s.LoginAt is not null && s.LogoutAt is null, s.LoginEventId, s.LogoutEventId);
}

/// <summary><c>eventStored</c>: a retry has stored the job's event since this failure was recorded.</summary>
internal sealed record QuarantineDto(string JobId, DateTimeOffset At, string Stage, string Reason, string RawSha256, string RawBase64, string? RawText,
    bool EventStored)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static QuarantineDto Of(QuarantineItem q)
    {
        string? text;
        try
        {
            text = StrictUtf8.GetString(q.Raw.Span);
        }
        catch (DecoderFallbackException)
        {
            text = null;
        }
        return new(q.JobId, q.At, q.Stage, q.Reason, q.RawSha256, Convert.ToBase64String(q.Raw.Span), text, q.EventStored);
    }
}

internal sealed record QueryErrorDto(string Error, int Position, string Expected);
