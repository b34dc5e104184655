using System.Security.Cryptography;
using Bonnie.Shared.Events;
using Bonnie.Shared.Protocol;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>What became of an event's payload.</summary>
/// <param name="Gone">A source knows the message no longer exists: no later attempt can give it.</param>
internal sealed record PayloadResult(PayloadStatus Status, string? Sha256, string? BodyText, string? Reason, string? Source, bool Gone = false,
    DateTimeOffset? InternalDate = null);

/// <summary>
/// Asks each <see cref="IPayloadSource"/> in turn; keeps the first answer (content-addressed, stored once), checks its
/// SHA-1 against the GUID Cyrus reported, and extracts the body text for full-text search.
/// </summary>
internal sealed partial class PayloadFetcher(
    IEnumerable<IPayloadSource> sources,
    IPayloadStore store,
    PayloadOptions options,
    ILogger<PayloadFetcher> logger)
{
    private int _toldNoSource;
    private readonly IPayloadSource[] _sources = sources.ToArray();

    public TimeSpan RetryAfter => options.RetryAfter;

    /// <summary>How many fetches of a batch may run at once.</summary>
    public int Concurrency => Math.Max(1, options.FetchConcurrency);

    /// <summary>True when a folder's fetches must run one after another (<see cref="IPayloadSource.OneFetchPerFolder"/>).</summary>
    public bool OneFetchPerFolder => _sources.Any(s => s.OneFetchPerFolder);

    /// <summary>True when a source other than the event itself may give a message's bytes (spool, IMAP).</summary>
    public bool HasSource => _sources.Any(s => s.MayAnswerLater);

    /// <summary>True when this worker asks the collectors on the IMAP hosts (<see cref="PayloadOptions.UseCollector"/>).</summary>
    public bool UsesCollector => options.UseCollector;

    /// <summary>
    /// True when the event is to be kept without its payload now: the broker's attempt count has reached the bound, or
    /// nothing could answer on a later attempt (no spool, no IMAP, no collector configured).
    /// </summary>
    public bool IsLastAttempt(Job job) => job.Attempt >= options.MaxAttempts || (!options.UseCollector && !_sources.Any(s => s.MayAnswerLater));

    /// <summary>
    /// What to ask the collector for this delivery's message, or null: collectors are not used, the job has been to
    /// one already (its answer, good or not, came back with it), or the event does not say where the message lies.
    /// A collect costs no attempt, so a job on its last attempt still goes there before it is kept without its payload.
    /// </summary>
    public CollectRequest? CollectFor(CyrusEvent e, Job job) =>
        options.UseCollector && job.Collected.Count == 0 && e.MailboxId is { } mailboxId && e.Mailbox is { Uid: { } uid } mailbox
            ? CollectRequest.ForPayload(mailboxId, uid, mailbox.Name)
            : null;

    public async Task<PayloadResult> FetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
        => (await FetchGroupAsync([(e, job)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// The payloads of several events, which all name one folder when there are more than one: each source is asked
    /// for those still without bytes, a source that reads many at once (IMAP: one session and one grant) all of them
    /// in one go, the others one by one, in the sources' order.
    /// </summary>
    public async Task<PayloadResult[]> FetchGroupAsync(IReadOnlyList<(CyrusEvent Event, Job Job)> items, CancellationToken cancellationToken)
    {
        var results = new PayloadResult?[items.Count];
        var reasons = items.Select(_ => new List<string>()).ToArray();
        var gone = new bool[items.Count];
        foreach (var source in _sources)
        {
            var pending = Enumerable.Range(0, items.Count).Where(i => results[i] is null).ToList();
            if (pending.Count == 0)
            {
                break;
            }
            IReadOnlyList<PayloadAnswer> answers;
            if (pending.Count > 1 && source.FetchesManyAtOnce)
            {
                answers = await source.TryFetchManyAsync(pending.ConvertAll(i => items[i].Event), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var one = new List<PayloadAnswer>(pending.Count);
                foreach (var i in pending)
                {
                    one.Add(await source.TryFetchAsync(items[i].Event, items[i].Job, cancellationToken).ConfigureAwait(false));
                }
                answers = one;
            }
            for (var k = 0; k < pending.Count; k++)
            {
                var i = pending[k];
                var answer = answers[k];
                if (answer.Bytes is not { } bytes)
                {
                    reasons[i].Add($"{source.Name}: {answer.Reason}");
                    gone[i] |= answer.Gone;
                    continue;
                }
                results[i] = await StoreAsync(items[i].Event, items[i].Job, source, answer, bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        for (var i = 0; i < items.Count; i++)
        {
            results[i] ??= NotFetched(items[i].Event, items[i].Job, string.Join("; ", reasons[i]), gone[i]);
        }
        return results!;
    }

    private async Task<PayloadResult> StoreAsync(CyrusEvent e, Job job, IPayloadSource source, PayloadAnswer answer, byte[] bytes, CancellationToken cancellationToken)
    {
        var sha256 = await store.PutAsync(bytes, cancellationToken).ConfigureAwait(false);
        var status = PayloadStatus.Stored;
        if (!MatchesGuid(bytes, e.EmailId))
        {
            status = PayloadStatus.DigestMismatch;
            LogDigestMismatch(logger, job.Id, source.Name, e.EmailId);
        }
        return new PayloadResult(status, sha256, BodyText(bytes), null, source.Name, InternalDate: answer.InternalDate);
    }

    private PayloadResult NotFetched(CyrusEvent e, Job job, string reason, bool gone)
    {
        if (gone)
        {
            // A message expunged before it could be fetched (a draft saved and replaced a second later): five postponed
            // attempts 30 s apart held up every later event of its mailbox for minutes each (a review against Cyrus).
            LogPayloadGone(logger, job.Id, reason);
            return new PayloadResult(PayloadStatus.Missing, null, null, reason, null, Gone: true);
        }
        if (IsLastAttempt(job) && CollectFor(e, job) is null)
        {
            if (job.Attempt >= options.MaxAttempts)
            {
                LogPayloadMissing(logger, job.Id, job.Attempt, reason);
            }
            else if (Interlocked.Exchange(ref _toldNoSource, 1) == 0)
            {
                // Once, not per delivery: a Bonnie without a payload source would otherwise log one warning per message.
                LogNoPayloadSource(logger, job.Id, reason);
            }
            else
            {
                LogNoPayloadSourceAgain(logger, job.Id);
            }
        }
        return new PayloadResult(PayloadStatus.Missing, null, null, reason, null);
    }

    /// <summary>The email id is <c>M</c> + the first 24 hex digits of the GUID, which is the SHA-1 of the stored file.</summary>
    // SHA-1 is what Cyrus names messages by; it is compared, not trusted: the payload is addressed by SHA-256.
#pragma warning disable CA5350
    public static bool MatchesGuid(ReadOnlySpan<byte> bytes, string? emailId)
    {
        if (emailId is not { Length: > 1 } || emailId[0] != 'M')
        {
            return true;
        }
        var prefix = emailId[1..];
        var sha1 = Convert.ToHexStringLower(SHA1.HashData(bytes));
        return sha1.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
    }
#pragma warning restore CA5350

    /// <summary>The message's words for full-text search (<see cref="MessageText"/>); null when the bytes are not a message.</summary>
    internal static string? BodyText(byte[] bytes)
    {
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return MessageText.Of(MimeMessage.Load(stream));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the payload from {Source} does not match the GUID in email id {EmailId}; kept and flagged")]
    private static partial void LogDigestMismatch(ILogger logger, string jobId, string source, string? emailId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId}: the message no longer exists ({Reasons}); the event is kept marked payload missing")]
    private static partial void LogPayloadGone(ILogger logger, string jobId, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: no payload after {Attempt} attempts ({Reasons}); the event is kept marked payload missing")]
    private static partial void LogPayloadMissing(ILogger logger, string jobId, int attempt, string reasons);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: no payload source could give the message, now or later ({Reasons}); the event is kept marked payload missing. Configure Bonnie:Payloads (spool, Imap or UseCollector) to keep messages")]
    private static partial void LogNoPayloadSource(ILogger logger, string jobId, string reasons);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: kept marked payload missing (no payload source is configured)")]
    private static partial void LogNoPayloadSourceAgain(ILogger logger, string jobId);
}
