using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bonnie.Shared.Cyrus;

/// <summary>
/// Which TLS certificates an IMAP server may present to Bonnie. By default the machine's trust store decides, as it
/// does for any client. Many Cyrus servers carry a certificate of the organisation's own CA, or one they signed
/// themselves; without a way to trust that, an administrator's only choice would be a connection without TLS, which
/// sends the admin password in clear. <c>TrustedCertificate</c> names a PEM file with that CA's certificate (or the
/// server's own): a chain ending at one of its certificates is then trusted as well, never instead of the name check.
/// </summary>
public sealed class ServerCertificateTrust
{
    private readonly X509Certificate2Collection _anchors;

    private ServerCertificateTrust(X509Certificate2Collection anchors) => _anchors = anchors;

    /// <summary>
    /// The trust for <paramref name="pemFile"/>, or null when none is configured (the machine's store alone). Throws
    /// <see cref="TrustedCertificateException"/> with the reason when the file cannot be read or holds no certificate.
    /// </summary>
    public static ServerCertificateTrust? Load(string? pemFile)
    {
        if (string.IsNullOrWhiteSpace(pemFile))
        {
            return null;
        }
        var anchors = new X509Certificate2Collection();
        try
        {
            anchors.ImportFromPemFile(pemFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TrustedCertificateException($"The trusted certificate file {pemFile} cannot be read: {ex.Message}", ex);
        }
        return anchors.Count == 0
            ? throw new TrustedCertificateException($"The trusted certificate file {pemFile} holds no PEM certificate.")
            : new ServerCertificateTrust(anchors);
    }

    /// <summary>Why <see cref="Load"/> would refuse <paramref name="pemFile"/>, or null when it is usable or unset.</summary>
    public static string? Check(string? pemFile)
    {
        try
        {
            Load(pemFile);
            return null;
        }
        catch (TrustedCertificateException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// A <see cref="RemoteCertificateValidationCallback"/> (also MailKit's <c>ServerCertificateValidationCallback</c>):
    /// what the machine's store accepts passes; otherwise the certificate must name the host and chain to one of the
    /// trusted certificates.
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        // A wrong name or no certificate is never excused: trusting a CA is not trusting every host it signed for.
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch)
            || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        using var presented = new X509Certificate2(certificate);
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_anchors);
        // An internal CA seldom publishes revocation lists Bonnie could reach; its certificate is the administrator's choice.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return custom.Build(presented);
    }
}

/// <summary>The configured trusted certificate file cannot be used: missing, unreadable, or without a certificate.</summary>
public sealed class TrustedCertificateException(string message, Exception? inner = null) : Exception(message, inner);
