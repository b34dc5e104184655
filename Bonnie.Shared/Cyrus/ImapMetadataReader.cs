namespace Bonnie.Shared.Cyrus;

/// <summary>What reading folders' METADATA gave: entries by folder name, and why any folder was not read.</summary>
/// <param name="UniqueIds">The unique id of the folder each name stood for when read, where the server told it.</param>
public sealed record FolderMetadataRead(
    IReadOnlyDictionary<string, SortedDictionary<string, string>> Found, IReadOnlyList<string> Failures, IReadOnlyDictionary<string, string>? UniqueIds = null)
{
    /// <summary>
    /// True unless the folder read under <paramref name="name"/> is known to be another than <paramref name="mailboxId"/>
    /// (the event's folder was renamed, and another created under its name, before the read).
    /// </summary>
    public bool IsSameFolder(string name, string? mailboxId) => SameFolder(UniqueIds?.GetValueOrDefault(name), mailboxId);

    /// <summary>False only when both ids are known and differ: a server that does not tell, or an event that does not, is taken at its name.</summary>
    public static bool SameFolder(string? readId, string? mailboxId) =>
        readId is null || mailboxId is null || string.Equals(readId, mailboxId, StringComparison.Ordinal);
}

/// <summary>
/// Folders' shared METADATA over one admin session kept from one read to the next: Cyrus reports every login and
/// logout as events, and a login per MailboxModseq (one per delivery) would put two events of Bonnie's own into the
/// audit trail for each. A session the server dropped is opened again, once per read. Used by the worker
/// (<c>Bonnie:Payloads:Imap</c>), the backfill and the collector; one read at a time.
/// </summary>
public sealed class ImapMetadataReader(ImapAdminEndpoint endpoint) : IAsyncDisposable, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ImapAdminSession? _session;
    private volatile bool _closing;

    /// <summary>
    /// Each folder's entries that are set, by folder name; a folder that does not exist (any more) is in neither list.
    /// Throws <see cref="ImapAdminException"/> when the server cannot be reached or refuses the login, when the
    /// reader is closing, and when <paramref name="waitForSession"/> (none: as long as it takes) passed while another
    /// read held the session: a caller that serves other requests too (the collector) must not queue behind a server
    /// that stopped answering.
    /// </summary>
    public async Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken, TimeSpan? waitForSession = null)
    {
        var found = new Dictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        var failures = new List<string>();
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        if (folders.Count == 0)
        {
            return new FolderMetadataRead(found, failures, ids);
        }
        if (!await _gate.WaitAsync(waitForSession ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false))
        {
            throw new ImapAdminException($"another METADATA read has held the session for more than {waitForSession}; not read");
        }
        try
        {
            if (_closing)
            {
                throw new ImapAdminException("the METADATA reader is closing; not read");
            }
            var pending = new Queue<string>(folders);
            var reopened = false;
            while (pending.TryPeek(out var folder))
            {
                _session ??= await ImapAdminSession.OpenAsync(endpoint, cancellationToken).ConfigureAwait(false);
                try
                {
                    if (await _session.GetSharedAsync(folder, cancellationToken).ConfigureAwait(false) is { } read)
                    {
                        found[folder] = read.Entries;
                        if (read.UniqueId is { } id)
                        {
                            ids[folder] = id;
                        }
                    }
                    pending.Dequeue();
                }
                catch (ImapAdminException ex) when (ex.IsRefusal)
                {
                    // The server answered (NO/BAD for this folder): the session is fine, the next folder is read.
                    failures.Add($"{folder}: {ex.Message}");
                    pending.Dequeue();
                }
                catch (ImapAdminException) when (!reopened)
                {
                    // A session kept since an earlier read that the server has closed meanwhile: once more, anew.
                    await DropSessionAsync().ConfigureAwait(false);
                    reopened = true;
                }
                catch
                {
                    await DropSessionAsync().ConfigureAwait(false);
                    throw;
                }
            }
            return new FolderMetadataRead(found, failures, ids);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DropSessionAsync()
    {
        if (_session is { } session)
        {
            _session = null;
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    // A read still in progress (the collector answers on tasks of their own) finishes first, within its timeouts; one
    // that comes after finds the reader closing. The gate is not disposed: a late caller gets that answer, not a crash.
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        if (await _gate.WaitAsync(TimeSpan.FromSeconds(70)).ConfigureAwait(false))
        {
            try
            {
                await DropSessionAsync().ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    // A container disposed without await (a test host, a synchronous shutdown) must not throw for want of the async
    // path; the goodbye to the server is bounded (ImapAdminSession.DisposeAsync waits 2 s at most).
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
