using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Storage;

/// <summary>
/// A search that asks for more than the store can count in time is stopped with a message that says how to narrow
/// it, and one whose caller went away (the officer left the page, the API client hung up) stops at once instead of
/// holding a core to the end.
/// </summary>
public sealed class EmbeddedSearchLimitTests(EmbeddedSearchLimitTests.Store40k data) : IClassFixture<EmbeddedSearchLimitTests.Store40k>
{
    private readonly string _dir = data.Directory;

    // Every one-letter prefix, twice over: each expands to most words of every subject, and the facets count them all.
    private static readonly string Costly = string.Join(" OR ", Enumerable.Range(0, 100).Select(i => (char)('a' + i % 26) + "*"));

    // The same prefixes from z back to a, every other one in the subject alone (the other full-text table), so they stay
    // a list of events each, checked one after the other, rarest first: the alternatives above became one FTS5
    // expression, whose total takes milliseconds, too short for a caller to leave in the middle of.
    private static readonly string CostlyTotal = string.Join(" OR ", Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? "" : "subject:") + (char)('z' - i % 26) + "*"));

    private static EventSearch Search(string q, Facets facets = Facets.All) => new() { Query = QueryParser.Parse(q), Limit = 50, Facets = facets };

    [Fact]
    public async Task SearchEventsAsync_RunsPastItsTime_StoppedWithAMessageSayingHowToNarrowIt()
    {
        await using var store = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance) { SearchTimeout = TimeSpan.FromMilliseconds(20) };

        var error = await Assert.ThrowsAsync<QuerySyntaxException>(() => store.SearchEventsAsync(Search(Costly)));

        Assert.Contains("stopped after", error.Message, StringComparison.Ordinal);
        Assert.Contains("Narrow it", error.Message, StringComparison.Ordinal);
        // The next search answers as before: the stop ended with the search it was for.
        await using var patient = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance);
        Assert.True((await patient.SearchEventsAsync(Search(Costly))).Total > 0);
    }

    [Fact]
    public async Task SearchEventsAsync_NoTimeLimit_Answers()
    {
        // Timeout.InfiniteTimeSpan is -1 ms: read as a deadline, every search would have been stopped before it began.
        await using var store = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance) { SearchTimeout = Timeout.InfiniteTimeSpan };

        Assert.Equal(40_000, (await store.SearchEventsAsync(Search("event:MessageNew -zulu*"))).Total + (await store.SearchEventsAsync(Search("event:MessageNew zulu*"))).Total);
    }

    [Fact]
    public async Task SearchEventsAsync_CallerGoesAway_StopsInsteadOfRunningToTheEnd()
    {
        // Counted in SQLite's own steps, not timed: the progress handler looks every 10,000 steps, and the looks a search
        // makes after its caller left are the work it did for nobody. Timed, the whole search took 48 ms on a loaded CI
        // machine and the ratio of two such times failed a run.
        var whole = 0;
        await using (var counting = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance) { SearchTimeout = Timeout.InfiniteTimeSpan, SearchProgressLooked = () => whole++ })
        {
            Assert.True((await counting.SearchEventsAsync(Search(CostlyTotal, Facets.None))).Total > 0);
        }
        // Without facets, nearly all of the search is its exact total, counted before the page is read.
        Assert.True(whole >= 20, $"the whole search took {whole} looks: too little to leave in the middle of");

        var looks = 0;
        using var leave = new CancellationTokenSource();
        await using var store = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance)
        {
            SearchTimeout = Timeout.InfiniteTimeSpan,
            // The caller leaves at the second look, inside the count's statement.
            SearchProgressLooked = () =>
            {
                if (++looks == 2)
                {
                    leave.Cancel();
                }
            },
        };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SearchEventsAsync(Search(CostlyTotal, Facets.None), leave.Token));

        // Stopped at the look where the caller had gone: without the handler's look at the token, the count ran on to
        // its end (every one of the whole search's looks) and only the page's read after it noticed.
        Assert.Equal(2, looks);
        Assert.Equal(40_000, (await store.SearchEventsAsync(Search("event:MessageNew", Facets.None))).Total);
    }

    /// <summary>40,000 deliveries with six words each in their subjects, shared by the tests (they only read).</summary>
    public sealed class Store40k : IAsyncLifetime
    {
        private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

        public string Directory { get; } = Path.Combine(Path.GetTempPath(), "bonnie-search-limits", Guid.NewGuid().ToString("N"));

        public async Task InitializeAsync()
        {
            await using var store = new EmbeddedStore(Directory, 16, NullLogger<EmbeddedStore>.Instance);
            await store.InitializeAsync();
            var words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".Split(' ');
            for (var batchNo = 0; batchNo < 4; batchNo++)
            {
                var batch = new StoreBatch();
                for (var i = 0; i < 10_000; i++)
                {
                    var n = batchNo * 10_000 + i;
                    var raw = Encoding.UTF8.GetBytes($"{{\"event\":\"MessageNew\",\"n\":{n}}}");
                    var subject = string.Join(' ', Enumerable.Range(0, 6).Select(k => words[(n * 7 + k * 11) % words.Length] + (n % 97).ToString(CultureInfo.InvariantCulture)));
                    batch.Events.Add(new StoredEvent
                    {
                        Id = Convert.ToHexStringLower(SHA256.HashData(raw)),
                        Type = EventType.MessageNew,
                        Name = "MessageNew",
                        Timestamp = T0.AddSeconds(n),
                        ReceivedAt = T0,
                        User = $"u{n % 300}@example.org",
                        FolderId = "f" + (n % 300).ToString(CultureInfo.InvariantCulture),
                        FolderName = $"user/u{n % 300}@example.org",
                        Subject = subject,
                        RawSha256 = Convert.ToHexStringLower(SHA256.HashData(raw)),
                        Raw = raw,
                    });
                }
                await store.CommitAsync(batch);
            }
        }

        public Task DisposeAsync()
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(Directory, recursive: true);
            return Task.CompletedTask;
        }
    }
}
