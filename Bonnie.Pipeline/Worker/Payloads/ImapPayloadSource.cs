using Bonnie.Pipeline.Imap;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Events;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Worker.Payloads;

/// <summary>
/// Fetches the message over IMAP as the Cyrus admin (BODY.PEEK[], byte-exact, without setting \Seen). The admin has
/// no implicit read right on user folders, so on a refusal it grants itself <c>lr</c> with SETACL and tries again.
/// </summary>
internal sealed partial class ImapPayloadSource(ImapPayloadOptions options, ILogger<ImapPayloadSource> logger) : IPayloadSource
{
    public string Name => "imap";

    // Only when configured: the source is registered either way, and an unconfigured one fetches nothing.
    public bool OneFetchPerFolder => options.IsConfigured;

    public bool MayAnswerLater => options.IsConfigured;

    public async Task<PayloadAnswer> TryFetchAsync(CyrusEvent e, Job job, CancellationToken cancellationToken)
        => (await TryFetchManyAsync([e], cancellationToken).ConfigureAwait(false))[0];

    public bool FetchesManyAtOnce => options.IsConfigured;

    /// <summary>
    /// The messages of several events of one folder over one session and at most one grant: one login and one SETACL
    /// pair per message took about 0.7 s each, one after another, and a message moved and expunged within those
    /// seconds kept no bytes (a live review); each grant and revocation is also an AclChange event in the trail.
    /// </summary>
    public async Task<IReadOnlyList<PayloadAnswer>> TryFetchManyAsync(IReadOnlyList<CyrusEvent> events, CancellationToken cancellationToken)
    {
        var answers = new PayloadAnswer?[events.Count];
        if (!options.IsConfigured)
        {
            return Fill(answers, PayloadAnswer.No("IMAP is not configured"));
        }
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Mailbox is not { Uid: not null })
            {
                answers[i] = PayloadAnswer.No("the event names no mailbox and UID");
            }
        }
        var pending = Enumerable.Range(0, events.Count).Where(i => answers[i] is null).ToList();
        if (pending.Count == 0)
        {
            return Fill(answers, PayloadAnswer.No("the event names no mailbox and UID"));
        }
        var name = events[pending[0]].Mailbox!.Name;
        if (pending.Any(i => !string.Equals(events[i].Mailbox!.Name, name, StringComparison.Ordinal)))
        {
            throw new ArgumentException("The events of one fetch must all name one folder.", nameof(events));
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The time-out is per message, as it was when each had a session of its own.
        timeout.CancelAfter(options.Timeout * pending.Count);
        var token = timeout.Token;
        using var client = new ImapClient();
        try
        {
            await ImapConnect.ConnectAsync(client, options.Host!, options.Port, options.Security, options.TrustedCertificate, token).ConfigureAwait(false);
            await client.AuthenticateAsync(options.User, options.Password ?? "", token).ConfigureAwait(false);
            var folder = await client.GetFolderAsync(name, token).ConfigureAwait(false);
            AccessControl? before = null;
            var granted = false;
            try
            {
                try
                {
                    await folder.OpenAsync(FolderAccess.ReadOnly, token).ConfigureAwait(false);
                }
                catch (ImapCommandException)
                {
                    LogGrantingRead(logger, name);
                    before = (await folder.GetAccessControlListAsync(token).ConfigureAwait(false))
                        .FirstOrDefault(a => a.Name == options.User);
                    // Set before the command is sent: a time-out or cancellation while it is in flight may still have
                    // granted it on the server, and putting back what was there before is harmless if it did not.
                    granted = true;
                    await folder.AddAccessRightsAsync(options.User, new AccessRights("lr"), token).ConfigureAwait(false);
                    await folder.OpenAsync(FolderAccess.ReadOnly, token).ConfigureAwait(false);
                }
                foreach (var i in pending)
                {
                    answers[i] = await FetchOneAsync(folder, events[i].Mailbox!, token).ConfigureAwait(false);
                }
            }
            finally
            {
                if (granted)
                {
                    // The admin's rights go back to exactly what they were: reading evidence must not leave the
                    // mail server's ACLs changed (Cyrus reports both changes as AclChange events, which Bonnie keeps).
                    using var restore = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    if (before is null)
                    {
                        await folder.RemoveAccessAsync(options.User, restore.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        await folder.SetAccessRightsAsync(options.User, before.Rights, restore.Token).ConfigureAwait(false);
                    }
                }
                if (client.IsConnected)
                {
                    await client.DisconnectAsync(true, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (FolderNotFoundException)
        {
            // Deleted or renamed since the event: asking by this name again cannot give it (five tries 30 s apart held up
            // the mailbox's later events for minutes). A collector still finds it: the spool is named by the folder's id.
            return Fill(answers, PayloadAnswer.NoLonger($"the folder {name} no longer exists under this name (deleted or renamed since)"));
        }
        catch (Exception ex) when (ex is ImapCommandException or ImapProtocolException or AuthenticationException or IOException
            or SslHandshakeException or TrustedCertificateException
            or System.Net.Sockets.SocketException or MessageNotFoundException or ServiceNotConnectedException
            or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // What was read before the failure stays read; the rest is asked again later.
            return Fill(answers, PayloadAnswer.No($"IMAP {options.Host}:{options.Port}: {ex.GetType().Name}: {ex.Message}"));
        }
        return Fill(answers, PayloadAnswer.No("not asked"));
    }

    private static async Task<PayloadAnswer> FetchOneAsync(IMailFolder folder, MailboxUri mailbox, CancellationToken token)
    {
        var uid = mailbox.Uid!.Value;
        if (mailbox.UidValidity is { } validity && folder.UidValidity != validity)
        {
            return PayloadAnswer.NoLonger($"the folder's UIDVALIDITY is {folder.UidValidity}, the event's {validity}: the message is gone");
        }
        try
        {
            await using var stream = await folder.GetStreamAsync(new UniqueId(uid), token).ConfigureAwait(false);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, token).ConfigureAwait(false);
            // Its INTERNALDATE too (a restore gives it back): mail imported with its own date keeps it.
            var summary = await folder.FetchAsync([new UniqueId(uid)], MessageSummaryItems.InternalDate, token).ConfigureAwait(false);
            return PayloadAnswer.Found(copy.ToArray(), summary.Count == 1 ? summary[0].InternalDate : null);
        }
        catch (MessageNotFoundException) when (folder.UidNext is { } next && uid < next.Id)
        {
            // Cyrus gave out this UID (it is below UIDNEXT) and no longer has the message: moved or expunged since.
            return PayloadAnswer.NoLonger($"UID {uid} is no longer in {mailbox.Name} (UIDNEXT {next.Id}): moved or expunged before it could be fetched");
        }
        catch (MessageNotFoundException)
        {
            // Not there yet as far as this session sees: asked again later, and the others of the folder are still read.
            return PayloadAnswer.No($"UID {uid} is not in {mailbox.Name} yet");
        }
    }

    private static PayloadAnswer[] Fill(PayloadAnswer?[] answers, PayloadAnswer rest) => answers.Select(a => a ?? rest).ToArray();

    [LoggerMessage(Level = LogLevel.Information, Message = "Granting the IMAP admin read access to {Mailbox} to fetch a payload")]
    private static partial void LogGrantingRead(ILogger logger, string mailbox);
}
