using System.Diagnostics;
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
        await using var store = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance);
        // Without facets, nearly all of the search's time is its exact total, counted before the page is read. Timed
        // the second time, so that the first run's compiling is not taken for the search's time.
        await store.SearchEventsAsync(Search(CostlyTotal, Facets.None));
        var whole = Stopwatch.StartNew();
        var full = await store.SearchEventsAsync(Search(CostlyTotal, Facets.None));
        whole.Stop();
        Assert.True(full.Total > 0);

        // The caller leaves from a thread of its own: a timer's cancellation waits for a thread of the pool, which the
        // test's first minutes may not have free, and the search would then end before the caller had left.
        using var leave = new CancellationTokenSource();
        var leaving = new Thread(() =>
        {
            Thread.Sleep(whole.Elapsed / 10);
            leave.Cancel();
        });
        var stopped = Stopwatch.StartNew();
        leaving.Start();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SearchEventsAsync(Search(CostlyTotal, Facets.None), leave.Token));
        stopped.Stop();
        leaving.Join();

        // Not a timing target: without the interruption the count runs to its end, and only the page's read after it
        // notices the caller left, near the whole search's time.
        Assert.True(stopped.Elapsed < whole.Elapsed / 2, $"stopped after {stopped.Elapsed}, the whole search took {whole.Elapsed}");
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
