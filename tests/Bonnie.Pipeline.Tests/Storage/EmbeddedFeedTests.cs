using System.Text;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Storage;

/// <summary>The embedded store's feed beyond the contract: what its positions promise.</summary>
public sealed class EmbeddedFeedTests : IAsyncLifetime, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bonnie-feed-tests", Guid.NewGuid().ToString("N"));
    private EmbeddedStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance);
        await _store.InitializeAsync();
        var batch = new StoreBatch();
        foreach (var n in Enumerable.Range(1, 3))
        {
            var raw = Encoding.UTF8.GetBytes($"{{\"event\":\"Login\",\"n\":{n}}}");
            batch.Events.Add(new StoredEvent
            {
                Id = "e" + n, Type = EventType.Login, Name = "Login", Timestamp = DateTimeOffset.UnixEpoch.AddDays(n), RawSha256 = "x", Raw = raw,
            });
        }
        await _store.CommitAsync(batch);
        // And one delivery in alice's Archive, the one event a folder: query finds.
        var raw4 = "{\"event\":\"MessageNew\",\"n\":4}"u8.ToArray();
        batch = new StoreBatch();
        batch.Folders["f-archive"] = new FolderObject { Id = "f-archive", Name = "user/alice/Archive@example.org", Owner = "alice@example.org" };
        batch.Events.Add(new StoredEvent
        {
            Id = "e4", Type = EventType.MessageNew, Name = "MessageNew", Timestamp = DateTimeOffset.UnixEpoch.AddDays(4), FolderId = "f-archive",
            FolderName = "user/alice/Archive@example.org", RawSha256 = "x", Raw = raw4,
        });
        await _store.CommitAsync(batch);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose() => _store.Dispose();

    private Task<FeedPage> FeedAsync(string? after) => _store.ReadFeedAsync(new FeedRequest { Query = QueryParser.Parse(""), After = after });

    [Fact]
    public async Task ReadFeedAsync_PositionPastTheLastEventStored_RefusedInsteadOfWaitingThereForEver()
    {
        // A position another store gave (or this one before it was reset or restored from a backup): followed, it would
        // say "caught up" for ever while new events passed it by (found by a review).
        var ex = await Assert.ThrowsAsync<QuerySyntaxException>(() => FeedAsync(FeedPosition.Encode(20_000)));

        Assert.Contains("past the last event this store holds", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadFeedAsync_FolderQuery_ResolvedInsideTheFeedsReadTransaction()
    {
        // folder: names are resolved to ids with queries of their own, on the connection that holds the feed's read.
        var page = await _store.ReadFeedAsync(new FeedRequest { Query = QueryParser.Parse("folder:Archive") });

        Assert.Equal(["e4"], page.Items.Select(e => e.Id));
    }

    [Fact]
    public async Task ReadFeedAsync_TheLastPositionGiven_AcceptedAndNothingNew()
    {
        var all = await FeedAsync(null);
        var again = await FeedAsync(all.Next);

        Assert.Equal(["e1", "e2", "e3", "e4"], all.Items.Select(e => e.Id));
        Assert.Empty(again.Items);
        Assert.True(again.CaughtUp);
    }
}
