using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>
/// Somewhere a message's bytes can come from: the event itself (2.5 <c>messageContent</c>), the collector's answer,
/// the Cyrus spool, IMAP. A source answers null (with why) when it cannot give them; it never throws for that.
/// </summary>
internal interface IPayloadSource
{
    string Name { get; }

    /// <summary>
    /// Fetches from one folder must not overlap: the IMAP source may grant itself read access to a folder and take it
    /// back, and two fetches doing that at once could leave the grant in place (the second reads the first's grant as
    /// what was there before).
    /// </summary>
    bool OneFetchPerFolder => false;

    /// <summary>
    /// Whether asking again later could give the bytes (the spool or IMAP server may answer then): false for a source
    /// that is not configured, or whose answer is in the job itself. When no source may answer later, a delivery is
    /// kept without its payload at once instead of being postponed, which held up its mailbox's later events for
    /// minutes per delivery on a Bonnie with no payload source configured.
    /// </summary>
    bool MayAnswerLater => true;

    Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="TryFetchManyAsync"/> reads several messages of one folder at once (one session, one grant).</summary>
    bool FetchesManyAtOnce => false;

    /// <summary>The messages of several events that all name one folder, an answer for each, in order.</summary>
    Task<IReadOnlyList<PayloadAnswer>> TryFetchManyAsync(IReadOnlyList<CyrusEvent> events, CancellationToken cancellationToken)
        => throw new NotSupportedException($"{Name} reads one message at a time.");
}

/// <param name="Gone">The source knows the message no longer exists (expunged, its folder recreated): asking again cannot
/// give it, so the event is kept without its payload now instead of holding up its mailbox's later events.</param>
/// <param name="InternalDate">The server's INTERNALDATE of the message, when the source read it.</param>
internal sealed record PayloadAnswer(byte[]? Bytes, string? Reason, bool Gone = false, DateTimeOffset? InternalDate = null)
{
    public static PayloadAnswer Found(byte[] bytes, DateTimeOffset? internalDate = null) => new(bytes, null, InternalDate: internalDate);
    public static PayloadAnswer No(string reason) => new(null, reason);
    public static PayloadAnswer NoLonger(string reason) => new(null, reason, Gone: true);
}

/// <summary>2.5/Kolab: the server put the message into the event.</summary>
internal sealed class EventContentPayloadSource : IPayloadSource
{
    public string Name => "event";

    public bool MayAnswerLater => false;

    public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
    {
        var uid = e.Mailbox?.Uid ?? e.UidSet?.Uids.FirstOrDefault() ?? 0;
        return Task.FromResult(e.MessageContent.TryGetValue(uid, out var content)
            ? PayloadAnswer.Found(System.Text.Encoding.UTF8.GetBytes(content))
            : PayloadAnswer.No("the event carries no messageContent"));
    }
}

/// <summary>What the collector answered for this job (<see cref="Job.Collected"/>).</summary>
internal sealed class CollectedPayloadSource : IPayloadSource
{
    public string Name => "collector";

    // A new collect is decided by PayloadFetcher.CollectFor, not by asking this source again.
    public bool MayAnswerLater => false;

    public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
    {
        foreach (var item in job.Collected)
        {
            if (item.Request.StartsWith("payload", StringComparison.Ordinal) && item.Error is null && !item.Data.IsEmpty)
            {
                return Task.FromResult(PayloadAnswer.Found(item.Data.ToArray()));
            }
        }
        return Task.FromResult(PayloadAnswer.No("the collector gave nothing"));
    }
}

/// <summary>
/// The Cyrus spool on this host: <c>&lt;partition&gt;/uuid/&lt;id[0]&gt;/&lt;id[1]&gt;/&lt;mailboxID&gt;/&lt;UID&gt;.</c>
/// (copies are hard links; an expunged file stays until <c>cyr_expire -X</c>).
/// </summary>
internal sealed class SpoolPayloadSource(IReadOnlyList<string> partitions) : IPayloadSource
{
    public string Name => "spool";

    public bool MayAnswerLater => partitions.Count > 0;

    public Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
    {
        if (partitions.Count == 0)
        {
            return Task.FromResult(PayloadAnswer.No("no spool partition configured"));
        }
        var uid = e.Mailbox?.Uid;
        if (e.MailboxId is null || uid is null)
        {
            return Task.FromResult(PayloadAnswer.No("the event names no mailbox id and UID"));
        }
        foreach (var partition in partitions)
        {
            var path = CyrusSpool.PathFor(partition, e.MailboxId, uid.Value);
            if (path is not null && File.Exists(path))
            {
                try
                {
                    // Read synchronously: a local file, and the fetch then stays on the thread the processor gave it
                    // (StoreJobProcessor.FetchPayloadsAsync) for its fsynced write too, off the thread pool.
                    cancellationToken.ThrowIfCancellationRequested();
                    return Task.FromResult(PayloadAnswer.Found(File.ReadAllBytes(path)));
                }
                catch (IOException ex)
                {
                    return Task.FromResult(PayloadAnswer.No($"reading {path} failed: {ex.Message}"));
                }
                catch (UnauthorizedAccessException ex)
                {
                    return Task.FromResult(PayloadAnswer.No($"reading {path} is not allowed: {ex.Message}"));
                }
            }
        }
        return Task.FromResult(PayloadAnswer.No("no spool file for the message"));
    }
}
