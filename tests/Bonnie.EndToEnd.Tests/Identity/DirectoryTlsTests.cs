using System.Net;
using System.Net.Sockets;
using System.Text;
using Bonnie.Pipeline.Identity;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.EndToEnd.Tests.Identity;

public sealed class DirectoryTlsTests(SecurePeopleDirectory directory) : IClassFixture<SecurePeopleDirectory>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ResolveAsync_StartTlsWithTrustedCa_Resolves()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver(o => { o.StartTls = true; o.TrustedCertificatesDirectory = directory.TrustedCertificatesDirectory; });

        var resolution = await resolver.ResolveAsync("alice@example.org", cancel.Token);

        Assert.True(resolution is Resolution.Resolved, resolution.ToString()); // the reason shows on failure
    }

    [Fact]
    public async Task ResolveAsync_StartTls_StartTlsIsTheFirstRequestTheServerSees()
    {
        // OpenLDAP refuses StartTLS with operationsError while it is still retiring an earlier request on the
        // connection, even one it has answered: nothing may go before StartTLS (and no credentials go before TLS).
        using var cancel = new CancellationTokenSource(Timeout);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var resolver = Resolver(o => { o.Servers = [$"ldap://127.0.0.1:{port}/"]; o.StartTls = true; });

        var resolving = resolver.ResolveAsync("alice@example.org", cancel.Token);
        string first;
        using (var client = await listener.AcceptTcpClientAsync(cancel.Token))
        {
            first = await ReadRequestAsync(client.GetStream(), cancel.Token);
        }
        var resolution = await resolving.WaitAsync(cancel.Token); // the server hung up: unavailable, not a hang

        Assert.Equal("extended 1.3.6.1.4.1.1466.20037", first);
        Assert.IsType<Resolution.DirectoryUnavailable>(resolution);
    }

    [Fact]
    public async Task ResolveAsync_LdapsWithTrustedCa_Resolves()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver(o => { o.Servers = [directory.LdapsUri]; o.TrustedCertificatesDirectory = directory.TrustedCertificatesDirectory; });

        var resolution = await resolver.ResolveAsync("alice@example.org", cancel.Token);

        Assert.IsType<Resolution.Resolved>(resolution);
    }

    [Fact]
    public async Task ResolveAsync_StartTlsWithUntrustedCertificate_UnavailableNotPlainText()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver(o => o.StartTls = true);

        var resolution = await resolver.ResolveAsync("alice@example.org", cancel.Token);

        Assert.IsType<Resolution.DirectoryUnavailable>(resolution);
    }

    [Fact]
    public async Task ResolveAsync_LdapsWithUntrustedCertificate_Unavailable()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var resolver = Resolver(o => o.Servers = [directory.LdapsUri]);

        var resolution = await resolver.ResolveAsync("alice@example.org", cancel.Token);

        Assert.IsType<Resolution.DirectoryUnavailable>(resolution);
    }

    /// <summary>The operation of the next LDAPMessage (RFC 4511): "extended" with its name, else its BER tag.</summary>
    private static async Task<string> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        Assert.Equal(0x30, await ReadByteAsync(stream, cancellationToken)); // SEQUENCE
        var message = new byte[await ReadLengthAsync(stream, cancellationToken)];
        await stream.ReadExactlyAsync(message, cancellationToken);
        using var body = new MemoryStream(message);
        Assert.Equal(0x02, await ReadByteAsync(body, cancellationToken)); // messageID INTEGER
        var idLength = await ReadLengthAsync(body, cancellationToken);
        body.Position += idLength;
        var operation = await ReadByteAsync(body, cancellationToken);
        if (operation != 0x77) // [APPLICATION 23] ExtendedRequest
        {
            return $"tag 0x{operation:x2}";
        }
        await ReadLengthAsync(body, cancellationToken);
        Assert.Equal(0x80, await ReadByteAsync(body, cancellationToken)); // requestName [0]
        var name = new byte[await ReadLengthAsync(body, cancellationToken)];
        await body.ReadExactlyAsync(name, cancellationToken);
        return "extended " + Encoding.ASCII.GetString(name);
    }

    private static async Task<int> ReadByteAsync(Stream stream, CancellationToken cancellationToken)
    {
        var one = new byte[1];
        await stream.ReadExactlyAsync(one, cancellationToken);
        return one[0];
    }

    private static async Task<int> ReadLengthAsync(Stream stream, CancellationToken cancellationToken)
    {
        var first = await ReadByteAsync(stream, cancellationToken);
        if (first < 0x80)
        {
            return first;
        }
        var length = 0;
        for (var i = 0; i < (first & 0x7f); i++)
        {
            length = (length << 8) | await ReadByteAsync(stream, cancellationToken);
        }
        return length;
    }

    private DirectoryResolver Resolver(Action<IdentityOptions> change) => new(
        Microsoft.Extensions.Options.Options.Create(directory.Options(change)), TimeProvider.System, NullLogger<DirectoryResolver>.Instance);
}
