using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Bonnie.Pipeline.Imap;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Storage;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Restore;

/// <summary>
/// Puts planned messages back into Cyrus. It logs in as the configured admin with SASL PLAIN and the owner as
/// authorization id, so it acts with the owner's rights and ACLs stay untouched. Each folder is opened (or created)
/// with MailKit, the GUIDs already there are read (Cyrus' EMAILID is <c>M</c> + the first 24 hex digits of the
/// message's SHA-1), and only what is missing is APPENDed, byte for byte from the stored payload
/// (<see cref="ImapAdminSession.AppendAsync"/>), then checked by its new EMAILID.
/// </summary>
internal sealed partial class ImapRestorer(IOptions<RestoreOptions> options, IPayloadStore payloads, ILogger<ImapRestorer> logger)
{
    /// <summary>
    /// Runs between finding that a folder on the way to the target is missing and creating it, with the folder's
    /// path as the owner sees it. Only tests set it: another client creating the folder in that gap is a race that
    /// cannot be timed from outside.
    /// </summary>
    internal Func<string, CancellationToken, Task>? BeforeCreate { get; init; }

    public Task<RestoreResult> RunAsync(RestorePlan plan, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken = default)
        => RunAsync(plan, progress, null, cancellationToken);

    /// <param name="restored">Told of each message stored and found byte-exact, as it happens: what a restore that fails
    /// half-way did is known too.</param>
    public async Task<RestoreResult> RunAsync(RestorePlan plan, IProgress<RestoreProgress>? progress, Action<RestoredMessage>? restored,
        CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Imap.IsConfigured)
        {
            throw new RestoreUnavailableException("Restore is not configured: set Bonnie:Restore:Imap:Host, AdminUser and Password.");
        }
        var counts = new Counts(plan.Items.Count);
        var failures = new List<RestoreSkip>();
        var created = new List<string>();
        progress?.Report(counts.Snapshot());
        foreach (var byOwner in plan.Items.GroupBy(i => CyrusMailboxName.OwnerOf(i.TargetFolder)!, StringComparer.OrdinalIgnoreCase))
        {
            using var client = await ConnectAsync(o.Imap, byOwner.Key, cancellationToken).ConfigureAwait(false);
            await using var appender = await ConnectAppenderAsync(o.Imap, byOwner.Key, cancellationToken).ConfigureAwait(false);
            foreach (var byFolder in byOwner.GroupBy(i => i.TargetFolder, StringComparer.Ordinal))
            {
                var folder = await OpenOrCreateAsync(client, byFolder.Key, created, cancellationToken).ConfigureAwait(false);
                var present = await PresentEmailIdsAsync(client, folder, byFolder.ToList(), cancellationToken).ConfigureAwait(false);
                foreach (var batch in byFolder.Chunk(o.BatchSize))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await AppendBatchAsync(client, appender, folder, byFolder.Key, batch, present, counts, failures, restored, cancellationToken).ConfigureAwait(false);
                    progress?.Report(counts.Snapshot());
                }
                await folder.CloseAsync(false, cancellationToken).ConfigureAwait(false);
            }
            await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
        }
        LogRestored(logger, counts.Restored, counts.AlreadyPresent, counts.Failed);
        return new RestoreResult(counts.Snapshot(), failures, created);
    }

    /// <summary>Cyrus' EMAILID for these bytes: <c>M</c> and the first 24 hex digits of their SHA-1 (the GUID).</summary>
#pragma warning disable CA5350 // Cyrus' GUID is a SHA-1: matching it identifies the message, it protects nothing.
    public static string EmailIdOf(ReadOnlySpan<byte> payload) => "M" + Convert.ToHexStringLower(SHA1.HashData(payload))[..24];
#pragma warning restore CA5350

    private async Task AppendBatchAsync(ImapClient client, ImapAdminSession appender, IMailFolder folder, string mailbox, RestoreItem[] batch,
        Dictionary<string, int> present, Counts counts, List<RestoreSkip> failures, Action<RestoredMessage>? restored, CancellationToken cancellationToken)
    {
        var appended = new List<(RestoreItem Item, string EmailId, long Size, UniqueId Uid)>();
        var unnumbered = new List<(RestoreItem Item, string EmailId)>();
        var altered = new HashSet<UniqueId>();
        try
        {
            foreach (var item in batch)
            {
                var bytes = await payloads.GetAsync(item.PayloadSha256, cancellationToken).ConfigureAwait(false);
                if (bytes is null)
                {
                    counts.Failed++;
                    failures.Add(new RestoreSkip(item.MessageKey, "its payload is no longer in the store"));
                    continue;
                }
                var emailId = EmailIdOf(bytes);
                if (present.TryGetValue(emailId, out var n) && n > 0)
                {
                    present[emailId] = n - 1;
                    counts.AlreadyPresent++;
                    continue;
                }
                uint? uid;
                try
                {
                    uid = await appender.AppendAsync(folder.FullName, item.Flags, item.InternalDate, bytes, cancellationToken).ConfigureAwait(false);
                }
                catch (ImapAdminException ex) when (ex.IsRefusal && ex.Message.Contains("quota", StringComparison.OrdinalIgnoreCase))
                {
                    throw new OverQuotaException(mailbox,
                        $"Cyrus refused to store more in {mailbox}: the owner's quota is full ({ex.Message}). Raise the quota or free space, then run the restore again; what was restored stays.", ex);
                }
                catch (ImapAdminException ex) when (ex.IsRefusal && (ex.Message.Contains("TRYCREATE", StringComparison.OrdinalIgnoreCase)
                    || ex.Message.Contains("does not exist", StringComparison.OrdinalIgnoreCase)))
                {
                    throw new MailboxNotFoundException(mailbox, $"The folder {mailbox} disappeared during the restore ({ex.Message}).", ex);
                }
                catch (ImapAdminException ex) when (ex.IsRefusal)
                {
                    // This message only (Cyrus refuses bare newlines, NUL bytes, lines too long): the rest goes on.
                    counts.Failed++;
                    failures.Add(new RestoreSkip(item.MessageKey, $"Cyrus refused it: {ex.Message}"));
                    continue;
                }
                catch (ImapAdminException ex)
                {
                    // The session is out of step or gone: the restore ends as the server having gone away (what went in stays).
                    throw new IOException(ex.Message, ex);
                }
                counts.Restored++;
                counts.Bytes += bytes.Length;
                if (uid is { } u)
                {
                    appended.Add((item, emailId, bytes.Length, new UniqueId(u)));
                }
                else
                {
                    unnumbered.Add((item, emailId));
                }
            }
            altered = await VerifyAsync(client, folder, appended, counts, failures, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Told even when the batch stops part-way (quota full, the server gone): what went into Cyrus is in the
            // restore's record, and the owner's mailbox does not show Bonnie's appends as the owner's own.
            if (restored is not null)
            {
                foreach (var a in appended.Where(a => !altered.Contains(a.Uid)))
                {
                    restored(new RestoredMessage(a.Item.MessageKey, mailbox, a.EmailId, a.Uid.Id));
                }
                foreach (var (item, emailId) in unnumbered)
                {
                    restored(new RestoredMessage(item.MessageKey, mailbox, emailId, null));
                }
            }
        }
    }

    /// <summary>
    /// Byte-exact means Cyrus computed the same GUID. A copy that is not (it cannot happen with the bytes sent as they
    /// are, but a server may rewrite what it stores) is reported and removed again: an altered copy left in the
    /// mailbox would pass for the evidence, and every run of the restore would add one more.
    /// </summary>
    private static async Task<HashSet<UniqueId>> VerifyAsync(ImapClient client, IMailFolder folder, List<(RestoreItem Item, string EmailId, long Size, UniqueId Uid)> appended,
        Counts counts, List<RestoreSkip> failures, CancellationToken cancellationToken)
    {
        var altered = new HashSet<UniqueId>();
        if (appended.Count == 0 || !client.Capabilities.HasFlag(ImapCapabilities.ObjectID))
        {
            return altered;
        }
        // The APPENDs went over the other connection: this one learns of them first.
        await client.NoOpAsync(cancellationToken).ConfigureAwait(false);
        var summaries = await folder.FetchAsync(appended.ConvertAll(a => a.Uid), MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId, cancellationToken)
            .ConfigureAwait(false);
        var byUid = summaries.ToDictionary(s => s.UniqueId, s => s.EmailId);
        foreach (var a in appended)
        {
            if (byUid.TryGetValue(a.Uid, out var actual) && !string.Equals(actual, a.EmailId, StringComparison.OrdinalIgnoreCase))
            {
                counts.Restored--;
                counts.Failed++;
                counts.Bytes -= a.Size;
                altered.Add(a.Uid);
                failures.Add(new RestoreSkip(a.Item.MessageKey,
                    $"stored as UID {a.Uid.Id} but its GUID is {actual}, not {a.EmailId}: the bytes differ from the archived ones, so that copy was removed again"));
            }
        }
        if (altered.Count > 0)
        {
            await folder.AddFlagsAsync([.. altered], MessageFlags.Deleted, silent: true, cancellationToken).ConfigureAwait(false);
            await folder.ExpungeAsync([.. altered], cancellationToken).ConfigureAwait(false);
        }
        return altered;
    }

    /// <summary>EMAILIDs already in the folder, with how many copies of each.</summary>
    private static async Task<Dictionary<string, int>> PresentEmailIdsAsync(ImapClient client, IMailFolder folder, List<RestoreItem> items, CancellationToken cancellationToken)
    {
        var present = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        if (folder.Count == 0)
        {
            return present;
        }
        if (client.Capabilities.HasFlag(ImapCapabilities.ObjectID))
        {
            foreach (var s in await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.EmailId, cancellationToken).ConfigureAwait(false))
            {
                if (s.EmailId is { } id)
                {
                    present[id] = present.GetValueOrDefault(id) + 1;
                }
            }
            return present;
        }
        // Without OBJECTID: hash the messages whose size matches one to restore.
        var sizes = items.Select(i => i.Size).ToHashSet();
        foreach (var s in await folder.FetchAsync(0, -1, MessageSummaryItems.UniqueId | MessageSummaryItems.Size, cancellationToken).ConfigureAwait(false))
        {
            if (s.Size is { } size && sizes.Contains(size))
            {
                await using var stream = await folder.GetStreamAsync(s.UniqueId, cancellationToken).ConfigureAwait(false);
                using var copy = new MemoryStream();
                await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                var id = EmailIdOf(copy.GetBuffer().AsSpan(0, (int)copy.Length));
                present[id] = present.GetValueOrDefault(id) + 1;
            }
        }
        return present;
    }

    private async Task<IMailFolder> OpenOrCreateAsync(ImapClient client, string adminName, List<string> created, CancellationToken cancellationToken)
    {
        var view = CyrusMailboxName.ToOwnerView(adminName);
        var folder = await FindAsync(client, view, cancellationToken).ConfigureAwait(false);
        if (folder is null)
        {
            if (await FindAsync(client, "INBOX", cancellationToken).ConfigureAwait(false) is null)
            {
                throw new MailboxNotFoundException(adminName,
                    $"The mailbox of {CyrusMailboxName.OwnerOf(adminName)} does not exist on the server, so {adminName} cannot be created in it. Have the mailbox created, or restore into another one.");
            }
            IMailFolder parent = client.Inbox!;
            var path = "INBOX";
            foreach (var segment in view.Split('/').Skip(1))
            {
                path += "/" + segment;
                var next = await FindAsync(client, path, cancellationToken).ConfigureAwait(false);
                if (next is null)
                {
                    try
                    {
                        if (BeforeCreate is { } beforeCreate)
                        {
                            await beforeCreate(path, cancellationToken).ConfigureAwait(false);
                        }
                        next = await parent.CreateAsync(segment, true, cancellationToken).ConfigureAwait(false)
                        ?? throw new MailboxNotFoundException(adminName, $"Cyrus did not create {path}.");
                        created.Add(CyrusMailboxName.FromOwnerView(CyrusMailboxName.OwnerOf(adminName)!, path));
                        LogCreated(logger, adminName);
                    }
                    catch (ImapCommandException)
                    {
                        // Created between the look and the CREATE (another restore into the same new folder, or the
                        // user): there it is, which is all this needed (a review saw two restores started together, one
                        // failing with "Mailbox already exists"). Not there: the refusal stands.
                        next = await FindAsync(client, path, cancellationToken).ConfigureAwait(false);
                        if (next is null)
                        {
                            throw;
                        }
                    }
                }
                parent = next;
            }
            folder = parent;
        }
        await folder.OpenAsync(FolderAccess.ReadWrite, cancellationToken).ConfigureAwait(false);
        return folder;
    }

    private static async Task<IMailFolder?> FindAsync(ImapClient client, string view, CancellationToken cancellationToken)
    {
        if (string.Equals(view, "INBOX", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                await client.Inbox!.StatusAsync(StatusItems.Count, cancellationToken).ConfigureAwait(false);
                return client.Inbox;
            }
            catch (ImapCommandException)
            {
                return null;
            }
        }
        try
        {
            return await client.GetFolderAsync(view, cancellationToken).ConfigureAwait(false);
        }
        catch (FolderNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The session that APPENDs the archived bytes as they are (<see cref="ImapAdminSession.AppendAsync"/>), as the admin for the owner.</summary>
    private static async Task<ImapAdminSession> ConnectAppenderAsync(RestoreImapOptions imap, string owner, CancellationToken cancellationToken)
    {
        var endpoint = new ImapAdminEndpoint(imap.Host!, imap.Port, imap.Security, imap.AdminUser, imap.Password ?? "", imap.Timeout, imap.TrustedCertificate);
        try
        {
            return await ImapAdminSession.OpenAsync(endpoint, owner, cancellationToken).ConfigureAwait(false);
        }
        catch (ImapAdminException ex)
        {
            throw new RestoreUnavailableException(
                $"The IMAP server {imap.Host}:{imap.Port} took MailKit's connection but not the one that appends the archived bytes as they are ({ex.Message}).", ex);
        }
    }

    private static async Task<ImapClient> ConnectAsync(RestoreImapOptions imap, string owner, CancellationToken cancellationToken)
    {
        var client = new ImapClient { Timeout = (int)imap.Timeout.TotalMilliseconds };
        try
        {
            await ImapConnect.ConnectAsync(client, imap.Host!, imap.Port, imap.Security, imap.TrustedCertificate, cancellationToken).ConfigureAwait(false);
            var plain = new SaslMechanismPlain(new NetworkCredential(imap.AdminUser, imap.Password ?? "")) { AuthorizationId = owner };
            await client.AuthenticateAsync(plain, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch (Exception ex) when (ex is SocketException or IOException or ImapProtocolException or TimeoutException)
        {
            client.Dispose();
            throw new RestoreUnavailableException($"The IMAP server {imap.Host}:{imap.Port} cannot be reached ({ex.Message}). Check that Cyrus is running and Bonnie:Restore:Imap, then try again.", ex);
        }
        catch (Exception ex) when (ex is SslHandshakeException or TrustedCertificateException)
        {
            client.Dispose();
            throw new RestoreUnavailableException(
                $"The IMAP server {imap.Host}:{imap.Port} could not be reached over TLS ({ex.Message}). Check its certificate and Bonnie:Restore:Imap:TrustedCertificate.", ex);
        }
        catch (AuthenticationException ex)
        {
            client.Dispose();
            throw new RestoreUnavailableException(
                $"The IMAP server {imap.Host}:{imap.Port} refused the admin '{imap.AdminUser}' acting for '{owner}'. Check Bonnie:Restore:Imap:AdminUser and Password, and that the user is one of Cyrus' admins.", ex);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private sealed class Counts(int total)
    {
        public int Restored;
        public int AlreadyPresent;
        public int Failed;
        public long Bytes;

        public RestoreProgress Snapshot() => new(total, Restored, AlreadyPresent, Failed, Bytes);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore created folder {Folder}")]
    private static partial void LogCreated(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restore finished: {Restored} restored, {Present} already present, {Failed} failed")]
    private static partial void LogRestored(ILogger logger, int restored, int present, int failed);
}
