using Bonnie.Shared.Cyrus;
using MailKit.Net.Imap;
using MailKit.Security;

namespace Bonnie.Pipeline.Imap;

/// <summary>How the payload source, the backfill and the restore reach Cyrus with MailKit: one reading of the options.</summary>
internal static class ImapConnect
{
    /// <summary><c>None</c>, <c>SslOnConnect</c>, anything else STARTTLS (the validators allow only these three).</summary>
    private static SecureSocketOptions SocketOptions(string security) => security switch
    {
        "None" => SecureSocketOptions.None,
        "SslOnConnect" => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTls,
    };

    /// <summary>
    /// Connects <paramref name="client"/>, trusting <paramref name="trustedCertificate"/> besides the machine's store
    /// when one is configured. The file is read at each connection, so a renewed certificate needs no restart.
    /// </summary>
    public static async Task ConnectAsync(
        ImapClient client, string host, int port, string security, string? trustedCertificate, CancellationToken cancellationToken)
    {
        // Needed only for the handshake, which ConnectAsync (STARTTLS included) completes.
        using var trust = ServerCertificateTrust.Load(trustedCertificate);
        if (trust is not null)
        {
            client.ServerCertificateValidationCallback = trust.Validate;
        }
        await client.ConnectAsync(host, port, SocketOptions(security), cancellationToken).ConfigureAwait(false);
    }
}
