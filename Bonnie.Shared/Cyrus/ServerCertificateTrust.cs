using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Bonnie.Shared.Cyrus;

/// <summary>
/// Which TLS certificates an IMAP server may present to Bonnie. By default the machine's trust store decides, as it
/// does for any client. Many Cyrus servers carry a certificate of the organisation's own CA, or one they signed
/// themselves; without a way to trust that, an administrator's only choice would be a connection without TLS, which
/// sends the admin password in clear. <c>TrustedCertificate</c> names a PEM file with the root CA's certificate (a
/// self-signed one: .NET on Linux takes only those as anchors), or the server's own certificate, which is then pinned:
/// trusted as well as the machine's store, never instead of the name check.
/// </summary>
public sealed class ServerCertificateTrust : IDisposable
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
            using var trust = Load(pemFile);
            return null;
        }
        catch (TrustedCertificateException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// A <see cref="RemoteCertificateValidationCallback"/> (also MailKit's <c>ServerCertificateValidationCallback</c>):
    /// what the machine's store accepts passes; otherwise the certificate must name the host, be meant for a server,
    /// not be revoked where the machine could tell, and either be one of the trusted certificates itself (the server's
    /// own, pinned) or chain to one of them as its root.
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
        // What the machine's own check found beyond an unknown root still counts: a revoked certificate, or one not
        // meant for this use, is refused however it chains.
        if (chain is not null && chain.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.Revoked) || s.Status.HasFlag(X509ChainStatusFlags.NotValidForUsage)))
        {
            return false;
        }
        using var presented = new X509Certificate2(certificate);
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_anchors);
        // Only a server's certificate: one the CA issued for clients is not one Bonnie should talk to as Cyrus.
        custom.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        // An internal CA seldom publishes revocation lists Bonnie could reach (what the machine's check learnt is used
        // above), and nothing is fetched from the network in the middle of a handshake.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.DisableCertificateDownloads = true;
        if (chain is not null)
        {
            // The intermediates the server sent, and those the machine's check found.
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        if (custom.Build(presented))
        {
            return true;
        }
        // The server's own certificate in the file (pinned): Linux trusts only self-signed anchors, so a certificate
        // a CA issued is matched byte for byte instead. Still only for the name and the use checked above.
        return _anchors.Any(a => a.RawDataMemory.Span.SequenceEqual(presented.RawDataMemory.Span)) && IsForServers(presented);
    }

    private static bool IsForServers(X509Certificate2 certificate)
    {
        var usage = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        return usage is null || usage.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value is "1.3.6.1.5.5.7.3.1" or "2.5.29.37.0");
    }

    public void Dispose()
    {
        foreach (var anchor in _anchors)
        {
            anchor.Dispose();
        }
    }
}

/// <summary>The configured trusted certificate file cannot be used: missing, unreadable, or without a certificate.</summary>
public sealed class TrustedCertificateException(string message, Exception? inner = null) : Exception(message, inner);
