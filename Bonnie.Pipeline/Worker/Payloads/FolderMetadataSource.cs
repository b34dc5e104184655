using Bonnie.Shared.Cyrus;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>Reads folders' shared METADATA, for the folders Cyrus reported changed (MailboxModseq).</summary>
internal interface IFolderMetadataSource
{
    bool IsConfigured { get; }

    /// <summary>
    /// Each folder's entries that are set, by folder name; a folder that does not exist (any more) is left out. Throws
    /// <see cref="ImapMetadataException"/> when the server cannot be read.
    /// </summary>
    Task<IReadOnlyDictionary<string, SortedDictionary<string, string>>> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken);
}

/// <summary>Over IMAP as the Cyrus admin (<c>Bonnie:Payloads:Imap</c>), all of a batch's folders over one login.</summary>
internal sealed class ImapFolderMetadataSource(ImapPayloadOptions options) : IFolderMetadataSource
{
    public bool IsConfigured => options.IsConfigured;

    public async Task<IReadOnlyDictionary<string, SortedDictionary<string, string>>> ReadAsync(IReadOnlyCollection<string> folders, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        if (folders.Count == 0)
        {
            return found;
        }
        await using var session = await ImapMetadataSession.OpenAsync(
            new ImapAdminEndpoint(options.Host!, options.Port, options.Security, options.User, options.Password ?? "", options.Timeout),
            cancellationToken).ConfigureAwait(false);
        foreach (var folder in folders)
        {
            if (await session.GetSharedAsync(folder, cancellationToken).ConfigureAwait(false) is { } entries)
            {
                found[folder] = entries;
            }
        }
        return found;
    }
}
