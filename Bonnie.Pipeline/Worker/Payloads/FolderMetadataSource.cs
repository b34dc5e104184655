using Bonnie.Shared.Cyrus;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>What a batch's folders' METADATA reading gave: entries by folder name, and why any folder was not read.</summary>
internal sealed record FolderMetadataRead(IReadOnlyDictionary<string, SortedDictionary<string, string>> Found, IReadOnlyList<string> Failures);

/// <summary>Reads folders' shared METADATA, for the folders Cyrus reported changed (MailboxModseq).</summary>
internal interface IFolderMetadataSource
{
    bool IsConfigured { get; }

    /// <summary>
    /// Each folder's entries that are set, by folder name; a folder that does not exist (any more) is in neither list.
    /// Throws <see cref="ImapMetadataException"/> when the server cannot be reached or refuses the login.
    /// </summary>
    Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken);
}

/// <summary>
/// Over IMAP as the Cyrus admin (<c>Bonnie:Payloads:Imap</c>). One session is kept between batches: Cyrus reports
/// every login and logout as events, and a login per MailboxModseq (one per delivery) would put two events of Bonnie's
/// own into the audit trail for each. A session the server dropped is opened again once per batch.
/// </summary>
internal sealed class ImapFolderMetadataSource(ImapPayloadOptions options) : IFolderMetadataSource, IAsyncDisposable, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ImapMetadataSession? _session;

    public bool IsConfigured => options.IsConfigured;

    public async Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        var failures = new List<string>();
        if (folders.Count == 0)
        {
            return new FolderMetadataRead(found, failures);
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var pending = new Queue<string>(folders);
            var reopened = false;
            while (pending.TryPeek(out var folder))
            {
                _session ??= await ImapMetadataSession.OpenAsync(
                    new ImapAdminEndpoint(options.Host!, options.Port, options.Security, options.User, options.Password ?? "", options.Timeout,
                        options.TrustedCertificate),
                    cancellationToken).ConfigureAwait(false);
                try
                {
                    if (await _session.GetSharedAsync(folder, cancellationToken).ConfigureAwait(false) is { } entries)
                    {
                        found[folder] = entries;
                    }
                    pending.Dequeue();
                }
                catch (ImapMetadataException ex) when (ex.IsRefusal)
                {
                    // The server answered (NO/BAD for this folder): the session is fine, the next folder is read.
                    failures.Add($"{folder}: {ex.Message}");
                    pending.Dequeue();
                }
                catch (ImapMetadataException) when (!reopened)
                {
                    // A session kept since an earlier batch that the server has closed meanwhile: once more, anew.
                    await DropSessionAsync().ConfigureAwait(false);
                    reopened = true;
                }
                catch
                {
                    await DropSessionAsync().ConfigureAwait(false);
                    throw;
                }
            }
            return new FolderMetadataRead(found, failures);
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

    public async ValueTask DisposeAsync()
    {
        await DropSessionAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    // A container disposed without await (a test host, a synchronous shutdown) must not throw for want of the async
    // path; the goodbye to the server is bounded (ImapMetadataSession.DisposeAsync waits 2 s at most).
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
