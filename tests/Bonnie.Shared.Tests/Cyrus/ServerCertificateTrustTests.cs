using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Bonnie.Shared.Cyrus;

namespace Bonnie.Shared.Tests.Cyrus;

/// <summary>
/// The trust decision alone, with certificates made here, in the state the TLS stack hands it over: the machine's store
/// did not know the root (RemoteCertificateChainErrors). Against the real Cyrus: tests/Bonnie.EndToEnd.Tests ImapTlsTests.
/// </summary>
public sealed class ServerCertificateTrustTests : IDisposable
{
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private readonly string _directory = Directory.CreateTempSubdirectory("bonnie-trust-").FullName;
    private readonly X509Certificate2 _root = Root("CN=Bonnie test root");

    public void Dispose()
    {
        _root.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static X509Certificate2 Root(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Leaf(X509Certificate2 issuer, string usage)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=imap.example.org", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("imap.example.org");
        request.CertificateExtensions.Add(san.Build());
        return request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), [1, 2, 3, 4]);
    }

    private ServerCertificateTrust Trusting(params X509Certificate2[] certificates)
    {
        var file = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".pem");
        File.WriteAllText(file, string.Concat(certificates.Select(c => c.ExportCertificatePem() + "\n")));
        return ServerCertificateTrust.Load(file)!;
    }

    [Fact]
    public void Validate_ServerCertificateOfTheTrustedRoot_Accepted()
    {
        using var leaf = Leaf(_root, ServerAuth);
        using var trust = Trusting(_root);

        Assert.True(trust.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void Validate_TrustedRootButAWrongHostName_Refused()
    {
        using var leaf = Leaf(_root, ServerAuth);
        using var trust = Trusting(_root);

        Assert.False(trust.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
    }

    [Fact]
    public void Validate_TrustedRootButAClientOnlyCertificate_Refused()
    {
        using var leaf = Leaf(_root, ClientAuth);
        using var trust = Trusting(_root);

        Assert.False(trust.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void Validate_AnotherRoot_Refused()
    {
        using var other = Root("CN=Someone else");
        using var leaf = Leaf(other, ServerAuth);
        using var trust = Trusting(_root);

        Assert.False(trust.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void Validate_TheServersOwnCertificatePinned_AcceptedForItsNameOnly()
    {
        using var leaf = Leaf(_root, ServerAuth);
        using var publicLeaf = X509CertificateLoader.LoadCertificate(leaf.RawData);
        using var other = Leaf(_root, ServerAuth);
        // The file holds the server's certificate, not the root that issued it.
        using var trust = Trusting(publicLeaf);

        Assert.True(trust.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(this, other, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(trust.Validate(this, leaf, null, SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch));
    }

    [Fact]
    public void Load_NothingConfigured_Null_AFileWithoutCertificate_Refused()
    {
        var empty = Path.Combine(_directory, "empty.pem");
        File.WriteAllText(empty, "no certificate here\n");

        Assert.Null(ServerCertificateTrust.Load(null));
        Assert.Null(ServerCertificateTrust.Check(" "));
        Assert.Contains("holds no PEM certificate", ServerCertificateTrust.Check(empty), StringComparison.Ordinal);
    }
}
