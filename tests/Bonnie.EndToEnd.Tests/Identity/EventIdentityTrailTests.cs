using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.EndToEnd.Tests.Identity;

/// <summary>
/// Real Cyrus notifications through the real processor and embedded store, their users resolved against a real
/// slapd: renames, aliases, people removed after the fact and the directory stopped mid-stream.
/// </summary>
#pragma warning disable CA1001 // The store is disposed asynchronously in DisposeAsync (IAsyncLifetime).
public sealed class EventIdentityTrailTests(PeopleDirectory directory) : IClassFixture<PeopleDirectory>, IAsyncLifetime
#pragma warning restore CA1001
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "bonnie-identity-e2e", Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private EmbeddedStore _store = null!;
    private DirectoryIdentityEnricher _enricher = null!;
    private StoreJobProcessor _processor = null!;

    public async Task InitializeAsync()
    {
        _store = new EmbeddedStore(Path.Combine(_directory, "store"), 16, NullLogger<EmbeddedStore>.Instance);
        var payloads = new PayloadDirectory(Path.Combine(_directory, "store", "payloads"), compress: true);
        var fetcher = new PayloadFetcher([], payloads, new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        var resolver = new DirectoryResolver(Microsoft.Extensions.Options.Options.Create(directory.Options()), _clock, NullLogger<DirectoryResolver>.Instance);
        _enricher = new DirectoryIdentityEnricher(resolver, _clock, NullLogger<DirectoryIdentityEnricher>.Instance);
        _processor = new StoreJobProcessor(_store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher, _clock,
            NullLogger<StoreJobProcessor>.Instance, _enricher);
        await _store.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task StoreAsync(string eventName, string user)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", eventName + ".json")).TrimEnd('\n');
        Assert.Contains("\"user\":\"alice@example.org\"", json, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(json.Replace("\"user\":\"alice@example.org\"", $"\"user\":\"{user}\"", StringComparison.Ordinal));
        var job = new Job(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, 1, _clock.GetUtcNow());
        Assert.IsType<JobOutcome.Done>(await _processor.ProcessAsync(job, cancel.Token));
    }

    private async Task<IReadOnlyList<StoredEvent>> SearchAsync(string query)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        return (await _store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Limit = 100, Facets = Facets.None }, cancel.Token)).Items;
    }

    [Fact]
    public async Task Search_OldNameAfterRename_FindsTheEventsUnderBothNamesAsOnePerson()
    {
        await StoreAsync("FlagsSet", "jane.gi@example.org");
        await StoreAsync("FlagsClear", "jane.gi@example.org");
        await directory.RenameJaneAsync();
        _clock.Advance(TimeSpan.FromMinutes(10));
        await StoreAsync("MailboxSubscribe", "jane.doe@example.org");

        var byOld = await SearchAsync("user:jane.gi@example.org");
        var byNew = await SearchAsync("user:jane.doe@example.org");

        Assert.Equal(3, byOld.Count);
        Assert.Equal(byOld.Select(e => e.Id).Order(), byNew.Select(e => e.Id).Order());
        var personId = Assert.Single(byOld.Select(e => e.Identity?.PersonId).Distinct());
        Assert.NotNull(personId);
        // Each event keeps who she was then.
        Assert.Equal(["Jane Doe", "Jane Gi", "Jane Gi"], byOld.Select(e => e.Identity!.DisplayName!).Order());
        Assert.All(byOld, e => Assert.Equal(["auditors"], e.Identity!.Groups));
        var person = Assert.IsType<PersonRecord>(await _store.GetPersonAsync(personId));
        Assert.Contains("jane.gi@example.org", person.Names.Select(n => n.Name));
        Assert.Contains("jane.doe@example.org", person.Names.Select(n => n.Name));
        Assert.Equal(3, person.EventCount);
    }

    [Fact]
    public async Task Search_ByAlias_FindsTheEventsUnderTheMainAddressToo()
    {
        await StoreAsync("FlagsSet", "a.example@example.org");
        await StoreAsync("FlagsClear", "alice@example.org");

        var byAlias = await SearchAsync("user:a.example@example.org");

        Assert.Equal(2, byAlias.Count);
        Assert.Single(byAlias.Select(e => e.Identity?.PersonId).Distinct());
        Assert.All(byAlias, e => Assert.Equal(["officer"], e.Identity!.Roles));
    }

    [Fact]
    public async Task ProcessBatch_PersonRemovedAfterTheFact_EarlierEventsKeepTheirSnapshot()
    {
        await StoreAsync("FlagsSet", "mallory@example.org");
        await directory.ModifyAsync("""
            dn: uid=mallory,ou=People,dc=example,dc=org
            changetype: delete
            """);
        _clock.Advance(TimeSpan.FromMinutes(10));
        await StoreAsync("FlagsClear", "mallory@example.org");

        var events = (await SearchAsync("user:mallory@example.org sort:oldest")).ToList();

        Assert.Equal(2, events.Count);
        Assert.Equal((IdentityStatus.Resolved, "Mallory Leaver"), (events[0].Identity!.Status, events[0].Identity!.DisplayName));
        Assert.Equal(IdentityStatus.NotFound, events[1].Identity!.Status);
    }

    [Fact]
    public async Task ProcessBatch_DirectoryStoppedMidStream_StoredPendingAtOnceThenReResolved()
    {
        await StoreAsync("FlagsSet", "j.doe2@example.org");
        await directory.StopAsync();
        try
        {
            await StoreAsync("FlagsClear", "jdoe2");
            await StoreAsync("MailboxSubscribe", "jdoe2");
        }
        finally
        {
            await directory.StartAsync();
        }
        var pending = await _store.GetPendingIdentityAsync(10);
        Assert.Equal(2, pending.Count);

        _clock.Advance(DirectoryIdentityEnricher.PauseAfterFailure);
        var reResolution = new IdentityReResolution(_store, _enricher, _clock, NullLogger<IdentityReResolution>.Instance);
        using var cancel = new CancellationTokenSource(Timeout);
        var pass = await reResolution.RunOnceAsync(cancel.Token);

        Assert.Equal((2, false), (pass.Updated, pass.DirectoryDown));
        Assert.Empty(await _store.GetPendingIdentityAsync(10));
        var all = await SearchAsync("user:j.doe2@example.org");
        Assert.Equal(3, all.Count);
        Assert.Single(all.Select(e => e.Identity?.PersonId).Distinct());
        Assert.All(all, e => Assert.Equal(IdentityStatus.Resolved, e.Identity!.Status));
        Assert.Contains(all, e => e.Identity!.ResolvedAt == _clock.GetUtcNow());
    }
}
