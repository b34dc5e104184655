using Bonnie.Shared.Cyrus;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>Reads folders' shared METADATA, for the folders Cyrus reported changed (MailboxModseq).</summary>
internal interface IFolderMetadataSource
{
    bool IsConfigured { get; }

    /// <summary>
    /// Each folder's entries that are set, by folder name; a folder that does not exist (any more) is in neither list.
    /// Throws <see cref="ImapAdminException"/> when the server cannot be reached or refuses the login.
    /// </summary>
    Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken);
}

/// <summary>Over IMAP as the Cyrus admin (<c>Bonnie:Payloads:Imap</c>), one session kept between batches (<see cref="ImapMetadataReader"/>).</summary>
internal sealed class ImapFolderMetadataSource(ImapPayloadOptions options) : IFolderMetadataSource, IAsyncDisposable, IDisposable
{
    private readonly ImapMetadataReader? _reader = options.IsConfigured
        ? new ImapMetadataReader(new ImapAdminEndpoint(options.Host!, options.Port, options.Security, options.User, options.Password ?? "", options.Timeout,
            options.TrustedCertificate))
        : null;

    public bool IsConfigured => _reader is not null;

    public Task<FolderMetadataRead> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken) =>
        _reader?.ReadAsync(folders, cancellationToken) ?? throw new InvalidOperationException("Bonnie:Payloads:Imap is not configured");

    public ValueTask DisposeAsync() => _reader?.DisposeAsync() ?? ValueTask.CompletedTask;

    public void Dispose() => _reader?.Dispose();
}
