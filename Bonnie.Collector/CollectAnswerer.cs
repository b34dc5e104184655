using System.Globalization;
using System.Text.Json;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Protocol;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Logging;

namespace Bonnie.Collector;

/// <summary>A collector's answer: the bytes, or an error text in place of <c>OK</c>.</summary>
internal sealed record CollectAnswer(byte[] Data, string? Error)
{
    public static CollectAnswer Failed(string error) => new([], error);
}

/// <summary>
/// Answers what only the IMAP host can give reliably. Payloads come from the spool file first (byte-exact, no
/// effect on the server), IMAP second; METADATA and ACLs from IMAP as the admin.
/// </summary>
internal sealed partial class CollectAnswerer(CollectorOptions options, ILogger<CollectAnswerer> logger) : IAsyncDisposable, IDisposable
{
    // One admin session for every METADATA request, kept between them: a worker asks once per changed folder and
    // batch, and a login for each would put a Login and a Logout of the collector's into the trail every time.
    private readonly ImapMetadataReader? _metadata = options.Imap.AdminPassword.Length == 0
        ? null
        : new ImapMetadataReader(new ImapAdminEndpoint(options.Imap.Host, options.Imap.Port, options.Imap.Security, options.Imap.AdminUser,
            options.Imap.AdminPassword, TimeSpan.FromSeconds(30), options.Imap.TrustedCertificate));

    /// <summary>How long a METADATA request waits for the session another holds before it is answered with an error.</summary>
    internal static readonly TimeSpan MetadataSessionWait = TimeSpan.FromSeconds(5);

    public ValueTask DisposeAsync() => _metadata?.DisposeAsync() ?? ValueTask.CompletedTask;

    public void Dispose() => _metadata?.Dispose();

    public async Task<CollectAnswer> AnswerAsync(string frame, CancellationToken cancellationToken)
    {
        if (!CollectRequest.TryParse(frame, out var request, out var error))
        {
            return CollectAnswer.Failed(error);
        }
        try
        {
            return request!.Kind switch
            {
                CollectKind.Payload => await PayloadAsync(request, cancellationToken).ConfigureAwait(false),
                CollectKind.Metadata => await MetadataAsync(request.Mailbox, cancellationToken).ConfigureAwait(false),
                _ => await WithFolderAsync(request.Mailbox, AclAsync, cancellationToken).ConfigureAwait(false),
            };
        }
        catch (Exception exception) when (exception is IOException or ImapProtocolException or ImapCommandException
                                              or AuthenticationException or FolderNotFoundException or System.Net.Sockets.SocketException
                                              or UnauthorizedAccessException or MessageNotFoundException or ImapAdminException
                                              or SslHandshakeException or TrustedCertificateException)
        {
            LogFailed(logger, request!.Kind, request.Mailbox, exception.Message);
            return CollectAnswer.Failed($"{exception.GetType().Name}: {exception.Message}");
        }
    }

    private async Task<CollectAnswer> PayloadAsync(CollectRequest request, CancellationToken cancellationToken)
    {
        foreach (var partition in options.SpoolPartitions)
        {
            var path = CyrusSpool.PathFor(partition, request.MailboxId!, request.Uid!.Value);
            if (path is not null && File.Exists(path))
            {
                return new CollectAnswer(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), null);
            }
        }
        if (options.Imap.AdminPassword.Length == 0)
        {
            return CollectAnswer.Failed($"no spool file for {request.Mailbox} UID {request.Uid} and IMAP is not configured");
        }
        return await WithFolderAsync(request.Mailbox, async (folder, ct) =>
        {
            await using var stream = await folder.GetStreamAsync(new UniqueId(request.Uid!.Value), ct).ConfigureAwait(false);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, ct).ConfigureAwait(false);
            return new CollectAnswer(copy.ToArray(), null);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The folder's shared entries that are set, as a JSON object of entry to value (see <see cref="ImapAdminSession"/>
    /// for why not MailKit). Cyrus lets its admins read any folder's METADATA, so no right is granted for it.
    /// </summary>
    private async Task<CollectAnswer> MetadataAsync(string mailbox, CancellationToken cancellationToken)
    {
        if (_metadata is null)
        {
            return CollectAnswer.Failed("IMAP is not configured (Bonnie:Collector:Imap:AdminPassword)");
        }
        // Taken before the read: everything Cyrus committed by then is in what is read.
        var readAt = DateTimeOffset.UtcNow;
        // Not queued behind a read the server is slow to answer: that would hold this slot, and payload requests the
        // spool could answer at once would wait behind it past the broker's CollectTimeout.
        var read = await _metadata.ReadAsync([mailbox], cancellationToken, MetadataSessionWait).ConfigureAwait(false);
        if (read.Found.TryGetValue(mailbox, out var entries))
        {
            // With the unique id of the folder read, so the worker can tell whether it is still the event's folder, and
            // the time of reading, so it can tell which of the folder's later events the read already covers.
            var answer = new SortedDictionary<string, string>(entries, StringComparer.Ordinal);
            if (read.UniqueIds?.GetValueOrDefault(mailbox) is { } id)
            {
                answer[ImapAdminSession.UniqueIdEntry] = id;
            }
            answer[CollectRequest.MetadataReadAtEntry] = readAt.ToString("O", CultureInfo.InvariantCulture);
            return new CollectAnswer(JsonSerializer.SerializeToUtf8Bytes(answer, CollectorJson.Default.SortedDictionaryStringString), null);
        }
        return CollectAnswer.Failed(read.Failures.Count > 0 ? read.Failures[0] : $"{mailbox} does not exist");
    }

    private static async Task<CollectAnswer> AclAsync(IMailFolder folder, CancellationToken cancellationToken)
    {
        var acl = await folder.GetAccessControlListAsync(cancellationToken).ConfigureAwait(false);
        var entries = acl.Select(a => new AclItem(a.Name, a.Rights.ToString())).ToList();
        return new CollectAnswer(JsonSerializer.SerializeToUtf8Bytes(entries, CollectorJson.Default.ListAclItem), null);
    }

    /// <summary>
    /// Opens the folder read-only as the admin. Cyrus gives its admins no read right on users' folders, so the
    /// collector grants itself <c>lr</c> for the read and takes it back after; Cyrus reports both as AclChange
    /// events by the admin, which the audit trail keeps, as it should.
    /// </summary>
    private async Task<CollectAnswer> WithFolderAsync(
        string mailbox, Func<IMailFolder, CancellationToken, Task<CollectAnswer>> read, CancellationToken cancellationToken)
    {
        if (options.Imap.AdminPassword.Length == 0)
        {
            return CollectAnswer.Failed("IMAP is not configured (Bonnie:Collector:Imap:AdminPassword)");
        }
        using var client = new ImapClient();
        var security = Enum.Parse<SecureSocketOptions>(options.Imap.Security);
        // Needed only for the handshake, which ConnectAsync completes.
        using var trust = ServerCertificateTrust.Load(options.Imap.TrustedCertificate);
        if (trust is not null)
        {
            client.ServerCertificateValidationCallback = trust.Validate;
        }
        await client.ConnectAsync(options.Imap.Host, options.Imap.Port, security, cancellationToken).ConfigureAwait(false);
        await client.AuthenticateAsync(options.Imap.AdminUser, options.Imap.AdminPassword, cancellationToken).ConfigureAwait(false);
        var folder = await client.GetFolderAsync(mailbox, cancellationToken).ConfigureAwait(false);
        var granted = false;
        AccessControl? previous = null;
        try
        {
            try
            {
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            }
            catch (ImapCommandException)
            {
                var acl = await folder.GetAccessControlListAsync(cancellationToken).ConfigureAwait(false);
                previous = acl.FirstOrDefault(a => a.Name == options.Imap.AdminUser);
                await folder.AddAccessRightsAsync(options.Imap.AdminUser, new AccessRights("lr"), cancellationToken).ConfigureAwait(false);
                granted = true;
                await folder.OpenAsync(FolderAccess.ReadOnly, cancellationToken).ConfigureAwait(false);
            }
            return await read(folder, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (granted)
            {
                // Leave the ACL exactly as it was found.
                if (previous is null)
                {
                    await folder.RemoveAccessAsync(options.Imap.AdminUser, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    await folder.SetAccessRightsAsync(options.Imap.AdminUser, previous.Rights, CancellationToken.None).ConfigureAwait(false);
                }
            }
            await client.DisconnectAsync(true, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Could not collect {Kind} for {Mailbox}: {Reason}")]
    private static partial void LogFailed(ILogger logger, CollectKind kind, string mailbox, string reason);
}

internal sealed record AclItem(string Identifier, string Rights);

[System.Text.Json.Serialization.JsonSerializable(typeof(SortedDictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<AclItem>))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class CollectorJson : System.Text.Json.Serialization.JsonSerializerContext;
