using System.Diagnostics;
using Bonnie.Pipeline.Identity;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>Its own slapd, since it stops it: other classes keep resolving against theirs meanwhile.</summary>
public sealed class DirectoryOutageTests(PeopleDirectory directory) : IClassFixture<PeopleDirectory>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ResolveAsync_DirectoryStoppedMidStream_UnavailableFastThenResolvedWhenBack()
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var resolver = new DirectoryResolver(
            Microsoft.Extensions.Options.Options.Create(directory.Options()), clock, NullLogger<DirectoryResolver>.Instance);
        var alice = Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("alice@example.org", cancel.Token));

        await directory.StopAsync();
        Resolution whileDown;
        Resolution aliceWhileDown;
        var elapsed = Stopwatch.StartNew();
        try
        {
            whileDown = await resolver.ResolveAsync("jdoe2", cancel.Token);
            elapsed.Stop();
            aliceWhileDown = await resolver.ResolveAsync("alice@example.org", cancel.Token);
        }
        finally
        {
            await directory.StartAsync();
        }

        var reason = Assert.IsType<Resolution.DirectoryUnavailable>(whileDown).Reason;
        Assert.Contains(directory.Uri, reason, StringComparison.Ordinal);
        Assert.InRange(elapsed.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3)); // the pipeline must not stall
        Assert.Equal(alice, aliceWhileDown); // briefly cached
        Assert.IsType<Resolution.Resolved>(await resolver.ResolveAsync("jdoe2", cancel.Token)); // not cached while down
    }
}
