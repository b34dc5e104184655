using Bonnie.Pipeline.Identity;
using Bonnie.Shared.Storage;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>Roles from nsRoleDN, the default <see cref="IdentityOptions.RolesAttribute"/> (389 Directory Server, Kolab).</summary>
public sealed class ManagedRolesTests(RolesDirectory directory) : IClassFixture<RolesDirectory>
{
    [Fact]
    public async Task ProcessBatch_DefaultRolesAttribute_SnapshotKeepsTheNsRoleDnRolesOfThatMoment()
    {
        Assert.Equal("nsRoleDN", new IdentityOptions().RolesAttribute);
        await using var pipeline = await IdentityPipeline.CreateAsync(directory.Options(o => o.RolesAttribute = new IdentityOptions().RolesAttribute));
        using var cancel = new CancellationTokenSource(IdentityPipeline.Timeout);
        await pipeline.StoreAsync("FlagsSet", ("\"user\":\"alice@example.org\"", "\"user\":\"rita@example.org\""));

        await directory.DropMailAdminAsync();
        pipeline.Clock.Advance(TimeSpan.FromHours(1)); // past the resolver's cache
        await pipeline.StoreAsync("FlagsClear", ("\"user\":\"alice@example.org\"", "\"user\":\"rita\""));

        var events = (await pipeline.Store.SearchEventsAsync(new Shared.Search.EventSearch
        {
            Query = Shared.Search.QueryParser.Parse("user:rita@example.org sort:oldest"),
        }, cancel.Token)).Items;
        Assert.Equal(2, events.Count);
        Assert.Equal([RolesDirectory.Auditors, RolesDirectory.MailAdmins], events[0].Identity!.Roles.Order(StringComparer.Ordinal));
        Assert.Equal([RolesDirectory.Auditors], events[1].Identity!.Roles);
        Assert.Equal(IdentityStatus.Resolved, events[1].Identity!.Status);
        Assert.Equal("Rita Roles", events[0].Identity!.DisplayName);
    }
}
