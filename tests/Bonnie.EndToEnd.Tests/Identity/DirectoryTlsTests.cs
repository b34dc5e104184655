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

    private DirectoryResolver Resolver(Action<IdentityOptions> change) => new(
        Microsoft.Extensions.Options.Options.Create(directory.Options(change)), TimeProvider.System, NullLogger<DirectoryResolver>.Instance);
}
