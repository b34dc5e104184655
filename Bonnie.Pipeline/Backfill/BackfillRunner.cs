using Bonnie.Pipeline.Imap;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Backfill;

/// <summary>
/// Backfill, Bonnie working backwards: walks every mailbox over IMAP as the Cyrus admin, one folder and one message
/// at a time at a bounded rate, records folders and messages as they are now (<see cref="BackfillWriter"/>) and
/// archives their payloads. Checkpointed per folder in the data directory; a run a crash interrupted resumes when
/// the host starts again. At most one run at a time.
/// </summary>
public sealed partial class BackfillRunner : IHostedService, IDisposable
{
    private const int MaxErrors = 50;
    private readonly BackfillOptions _options;
    private readonly ImapPayloadOptions _imap;
    private readonly BackfillWriter _writer;
    private readonly IPayloadStore _payloads;
    private readonly TimeProvider _time;
    private readonly ILogger<BackfillRunner> _logger;
    private readonly string _checkpointPath;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<string> _errors = [];
    private Task _run = Task.CompletedTask;
    private BackfillProgress _progress = BackfillProgress.Idle;
    private long _startTimestamp;
    private DateTimeOffset _nextFetch;
    private bool _disposed;

    internal BackfillRunner(BackfillOptions options, ImapPayloadOptions imap, BackfillWriter writer, IPayloadStore payloads, string directory,
        TimeProvider time, ILogger<BackfillRunner> logger)
    {
        _options = options;
        _imap = imap;
        _writer = writer;
        _payloads = payloads;
        _time = time;
        _logger = logger;
        Directory.CreateDirectory(directory);
        _checkpointPath = Path.Combine(directory, "checkpoint.json");
    }

    public BackfillProgress Progress
    {
        get
        {
            lock (_gate)
            {
                return _progress with { Errors = [.. _errors] };
            }
        }
    }

    /// <summary>Whether the admin's IMAP connection is configured (<c>Bonnie:Payloads:Imap</c>).</summary>
    public bool IsConfigured => _imap.IsConfigured;

    /// <summary>Starts a new run over every mailbox; false when one is running already.</summary>
    public bool TryStart() => TryStart(resume: false);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A run that a crash interrupted carries on by itself.
        if (_imap.IsConfigured && BackfillCheckpoint.Load(_checkpointPath) is { State: "running" })
        {
            LogResuming(_logger);
            TryStart(resume: true);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // A host may stop its services after the container disposed them (test hosts do).
            if (_disposed)
            {
                return;
            }
            _stopping.Cancel();
        }
        await _run.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _stopping.Cancel();
        }
        _stopping.Dispose();
    }

    private bool TryStart(bool resume)
    {
        lock (_gate)
        {
            if (_disposed || !_run.IsCompleted)
            {
                return false;
            }
            _errors.Clear();
            _startTimestamp = _time.GetTimestamp();
            _progress = BackfillProgress.Idle with { State = "running", StartedAt = _time.GetUtcNow(), Resumed = resume };
            // Supervised: the task is kept, awaited at stop, and every failure ends in the progress and the log.
            _run = Task.Run(() => RunAsync(resume, _stopping.Token));
            return true;
        }
    }

    private async Task RunAsync(bool resume, CancellationToken cancellationToken)
    {
        var checkpoint = (resume ? BackfillCheckpoint.Load(_checkpointPath) : null)
            ?? new BackfillCheckpoint { StartedAt = _time.GetUtcNow() };
        checkpoint.State = "running";
        checkpoint.Save(_checkpointPath);
        string state;
        try
        {
            using var client = await ConnectAsync(cancellationToken).ConfigureAwait(false);
            // One admin session for every folder's METADATA, as the worker keeps one: each login is a Login and a
            // Logout event in the trail, and a session per folder was one more login per folder walked.
            await using var metadata = new ImapFolderMetadataSource(_imap);
            var folders = await ListFoldersAsync(client, _options.DeletedPrefix, cancellationToken).ConfigureAwait(false);
            Update(p => p with { FoldersTotal = folders.Count });
            foreach (var folder in folders)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (checkpoint.Folders.TryGetValue(folder.FullName, out var done) && done.Complete)
                {
                    Update(p => p with { FoldersDone = p.FoldersDone + 1 });
                    continue;
                }
                Update(p => p with { CurrentFolder = folder.FullName });
                try
                {
                    await BackfillFolderAsync(client, metadata, folder, checkpoint, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ImapCommandException or FolderNotFoundException or IOException or ImapProtocolException)
                {
                    AddError($"{folder.FullName}: {ex.Message}");
                    LogFolderFailed(_logger, ex, folder.FullName);
                    if (!client.IsConnected || !client.IsAuthenticated)
                    {
                        throw;
                    }
                }
                Update(p => p with { FoldersDone = p.FoldersDone + 1 });
            }
            state = "completed";
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Host stopping: the checkpoint stays "running", so the next start resumes.
            Update(p => p with { State = "stopped", FinishedAt = _time.GetUtcNow(), CurrentFolder = null });
            return;
        }
        catch (Exception ex)
        {
            AddError(ex.Message);
            LogRunFailed(_logger, ex);
            state = "failed";
        }
        checkpoint.State = state;
        checkpoint.Save(_checkpointPath);
        Update(p => p with { State = state, FinishedAt = _time.GetUtcNow(), CurrentFolder = null });
        var final = Progress;
        LogFinished(_logger, state, final.FoldersDone, final.MessagesSeen, final.MessagesRecorded, final.Bytes);
    }

    private async Task BackfillFolderAsync(ImapClient client, ImapFolderMetadataSource metadata, IMailFolder folder, BackfillCheckpoint checkpoint,
        CancellationToken cancellationToken)
    {
        var name = folder.FullName;
        var acl = (await folder.GetAccessControlListAsync(cancellationToken).ConfigureAwait(false))
            .ToDictionary(a => a.Name, a => a.Rights.ToString(), StringComparer.Ordinal);
        if (checkpoint.Grants.TryGetValue(name, out var before))
        {
            // Left over from a run that crashed while it held its grant: the ACL as found is the one before it.
            Restore(acl, before);
        }
        var granted = false;
        try
        {
            try
            {
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException)
            {
                // Cyrus gives its admins no read right on users' folders: grant it for the walk, note it first.
                if (!checkpoint.Grants.ContainsKey(name))
                {
                    checkpoint.Grants[name] = acl.GetValueOrDefault(_imap.User, "");
                    checkpoint.Save(_checkpointPath);
                }
                await folder.AddAccessRightsAsync(_imap.User, new AccessRights("lr"), cancellationToken).ConfigureAwait(false);
                granted = true;
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            }
            if (checkpoint.Grants.ContainsKey(name))
            {
                granted = true;
            }
            await WalkAsync(folder, acl, metadata, checkpoint, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (granted)
            {
                await RestoreGrantAsync(folder, checkpoint).ConfigureAwait(false);
            }
        }
    }

    private async Task WalkAsync(IMailFolder folder, Dictionary<string, string> acl, ImapFolderMetadataSource metadata, BackfillCheckpoint checkpoint,
        CancellationToken cancellationToken)
    {
        var name = folder.FullName;
        var mailbox = MailboxUri.TryParse("imap://backfill/" + Uri.EscapeDataString(name), out var parsed) ? parsed : null;
        var found = new FoundFolder(folder.Id ?? HandlerSupport.NameKey(name), name, mailbox?.Owner, folder.UidValidity, acl,
            await ReadMetadataAsync(metadata, name, cancellationToken).ConfigureAwait(false));
        if (await _writer.RecordFolderAsync(found, cancellationToken).ConfigureAwait(false))
        {
            Update(p => p with { FoldersRecorded = p.FoldersRecorded + 1 });
        }
        if (!checkpoint.Folders.TryGetValue(name, out var position) || position.UidValidity != folder.UidValidity)
        {
            // New folder, or Cyrus renumbered it (UIDVALIDITY changed): walk it from the start.
            position = new FolderCheckpoint { UidValidity = folder.UidValidity };
            checkpoint.Folders[name] = position;
        }
        var uids = (await folder.SearchAsync(SearchQuery.All, cancellationToken).ConfigureAwait(false))
            .Where(u => u.Id > position.LastUid).OrderBy(u => u.Id).ToList();
        foreach (var chunk in uids.Chunk(_options.BatchSize))
        {
            var summaries = await folder.FetchAsync(chunk, MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId | MessageSummaryItems.Size
                | MessageSummaryItems.Envelope | MessageSummaryItems.Flags | MessageSummaryItems.InternalDate, cancellationToken).ConfigureAwait(false);
            var messages = new List<FoundMessage>(summaries.Count);
            long bytes = 0;
            foreach (var s in summaries.OrderBy(s => s.UniqueId.Id))
            {
                var messageId = s.Envelope?.MessageId is { Length: > 0 } mid ? "<" + mid + ">" : null;
                var key = s.EmailId ?? (messageId is not null
                    ? $"mid:{messageId}:{s.Size?.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
                    : HandlerSupport.LocationKey(found.Id, folder.UidValidity, s.UniqueId.Id));
                var status = PayloadStatus.None;
                string? sha256 = null;
                string? bodyText = null;
                if (!await _writer.IsArchivedAtAsync(key, found.Id, s.UniqueId.Id, cancellationToken).ConfigureAwait(false))
                {
                    await ThrottleAsync(cancellationToken).ConfigureAwait(false);
                    var payload = await FetchAsync(folder, s.UniqueId, cancellationToken).ConfigureAwait(false);
                    sha256 = await _payloads.PutAsync(payload, cancellationToken).ConfigureAwait(false);
                    status = PayloadFetcher.MatchesGuid(payload, s.EmailId) ? PayloadStatus.Stored : PayloadStatus.DigestMismatch;
                    bodyText = PayloadFetcher.BodyText(payload);
                    bytes += payload.Length;
                }
                var flags = new List<string>();
                foreach (var flag in new[] { MessageFlags.Seen, MessageFlags.Answered, MessageFlags.Flagged, MessageFlags.Deleted, MessageFlags.Draft })
                {
                    if (s.Flags is { } f && f.HasFlag(flag))
                    {
                        flags.Add("\\" + flag);
                    }
                }
                flags.AddRange(s.Keywords);
                var from = s.Envelope?.From.Mailboxes.FirstOrDefault()?.Address;
                var senders = s.Envelope?.From.Mailboxes.Select(Address).ToList() ?? [];
                var recipients = s.Envelope is { } envelope ? envelope.To.Mailboxes.Concat(envelope.Cc.Mailboxes).Select(Address).ToList() : [];
                messages.Add(new FoundMessage(key, s.EmailId, messageId, (long?)s.Size, s.Envelope?.Subject, from, s.UniqueId.Id, flags, status, sha256,
                    s.InternalDate, senders, recipients, bodyText));
            }
            var recorded = await _writer.RecordMessagesAsync(found, messages, cancellationToken).ConfigureAwait(false);
            position.LastUid = chunk[^1].Id;
            checkpoint.Save(_checkpointPath);
            Update(p => p with
            {
                MessagesSeen = p.MessagesSeen + messages.Count,
                MessagesRecorded = p.MessagesRecorded + recorded,
                Bytes = p.Bytes + bytes,
                MessagesPerSecond = Rate(p.MessagesSeen + messages.Count),
            });
        }
        position.Complete = true;
        checkpoint.Save(_checkpointPath);
    }

    private static string Address(MimeKit.MailboxAddress a) => HandlerSupport.AddressText(a.Name, a.Address);

    private static async Task<byte[]> FetchAsync(IMailFolder folder, UniqueId uid, CancellationToken cancellationToken)
    {
        // BODY.PEEK[]: the exact bytes, without setting \Seen.
        using var stream = await folder.GetStreamAsync(uid, "", cancellationToken).ConfigureAwait(false);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
        return copy.ToArray();
    }

    private async Task ThrottleAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_nextFetch > now)
        {
            await Task.Delay(_nextFetch - now, _time, cancellationToken).ConfigureAwait(false);
            now = _nextFetch;
        }
        _nextFetch = now + TimeSpan.FromSeconds(1 / _options.MessagesPerSecond);
    }

    private async Task RestoreGrantAsync(IMailFolder folder, BackfillCheckpoint checkpoint)
    {
        if (!checkpoint.Grants.TryGetValue(folder.FullName, out var before))
        {
            return;
        }
        // Leave the ACL exactly as it was found, even when the run is being cancelled.
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        if (before.Length == 0)
        {
            await folder.RemoveAccessAsync(_imap.User, limit.Token).ConfigureAwait(false);
        }
        else
        {
            await folder.SetAccessRightsAsync(_imap.User, new AccessRights(before), limit.Token).ConfigureAwait(false);
        }
        checkpoint.Grants.Remove(folder.FullName);
        checkpoint.Save(_checkpointPath);
    }

    private void Restore(Dictionary<string, string> acl, string before)
    {
        if (before.Length == 0)
        {
            acl.Remove(_imap.User);
        }
        else
        {
            acl[_imap.User] = before;
        }
    }

    private async Task<ImapClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new ImapClient { Timeout = (int)_imap.Timeout.TotalMilliseconds };
        try
        {
            await ImapConnect.ConnectAsync(client, _imap.Host!, _imap.Port, _imap.Security, _imap.TrustedCertificate, cancellationToken).ConfigureAwait(false);
            await client.AuthenticateAsync(_imap.User, _imap.Password ?? "", cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Every selectable mailbox the admin can list: all users' folders (<c>user/*</c>) and the shared ones, but not the
    /// deleted ones Cyrus keeps below <paramref name="deletedPrefix"/>.
    /// </summary>
    private static async Task<List<IMailFolder>> ListFoldersAsync(ImapClient client, string deletedPrefix, CancellationToken cancellationToken)
    {
        var byName = new SortedDictionary<string, IMailFolder>(StringComparer.Ordinal);
        foreach (var ns in client.PersonalNamespaces.Concat(client.OtherNamespaces).Concat(client.SharedNamespaces))
        {
            foreach (var folder in await client.GetFoldersAsync(ns, StatusItems.None, subscribedOnly: false, cancellationToken).ConfigureAwait(false))
            {
                if ((folder.Attributes & (FolderAttributes.NoSelect | FolderAttributes.NonExistent)) == 0
                    && !IsDeletedFolder(folder.FullName, folder.DirectorySeparator, deletedPrefix))
                {
                    byName.TryAdd(folder.FullName, folder);
                }
            }
        }
        return [.. byName.Values];
    }

    /// <summary>A folder Cyrus keeps after its deletion (<c>DELETED/user/alice/Archive/6B15D99A</c>), as the admin lists it.</summary>
    internal static bool IsDeletedFolder(string name, char separator, string deletedPrefix)
        => deletedPrefix.Length > 0
            && (string.Equals(name, deletedPrefix, StringComparison.Ordinal) || name.StartsWith(deletedPrefix + separator, StringComparison.Ordinal));

    private double Rate(long seen)
    {
        var seconds = _time.GetElapsedTime(_startTimestamp).TotalSeconds;
        return seconds > 0 ? Math.Round(seen / seconds, 1) : 0;
    }

    private void Update(Func<BackfillProgress, BackfillProgress> change)
    {
        lock (_gate)
        {
            _progress = change(_progress);
        }
    }

    /// <summary>
    /// The folder's shared METADATA as it stands (see <see cref="ImapAdminSession"/>); empty, with the reason in the
    /// run's errors, when it cannot be read: the folder and its messages are still walked.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> ReadMetadataAsync(ImapFolderMetadataSource metadata, string name, CancellationToken cancellationToken)
    {
        try
        {
            var read = await metadata.ReadAsync([name], cancellationToken).ConfigureAwait(false);
            foreach (var failure in read.Failures)
            {
                AddError($"METADATA not read: {failure}");
            }
            return read.Found.GetValueOrDefault(name) ?? new SortedDictionary<string, string>(StringComparer.Ordinal);
        }
        catch (ImapAdminException ex)
        {
            AddError($"{name}: METADATA not read: {ex.Message}");
            return new SortedDictionary<string, string>(StringComparer.Ordinal);
        }
    }

    private void AddError(string error)
    {
        lock (_gate)
        {
            if (_errors.Count < MaxErrors)
            {
                _errors.Add(error);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Backfill: resuming the run a restart interrupted")]
    private static partial void LogResuming(ILogger logger);

    [LoggerMessage(2, LogLevel.Warning, "Backfill: folder {Folder} could not be walked")]
    private static partial void LogFolderFailed(ILogger logger, Exception exception, string folder);

    [LoggerMessage(3, LogLevel.Error, "Backfill failed")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Backfill {State}: {Folders} folders, {Seen} messages seen, {Recorded} recorded, {Bytes} payload bytes")]
    private static partial void LogFinished(ILogger logger, string state, int folders, long seen, long recorded, long bytes);
}
