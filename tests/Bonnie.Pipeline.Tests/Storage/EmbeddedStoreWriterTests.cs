using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Shared.Events;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Storage;

/// <summary>
/// What the embedded store's writer does for speed must not change what anyone reads: the object cache with a
/// second process on the same store, and notifications stored compressed.
/// </summary>
public sealed class EmbeddedStoreWriterTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
    private static readonly Actor Alice = new("alice@example.org", "s1", "192.0.2.7", "imap");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "bonnie-store-writer", Guid.NewGuid().ToString("N"));
    private EmbeddedStore _worker = null!;
    private EmbeddedStore _webHost = null!;

    public async Task InitializeAsync()
    {
        // Two stores on one directory: what a worker process beside the web host's process amounts to.
        _worker = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance);
        _webHost = new EmbeddedStore(_dir, 16, NullLogger<EmbeddedStore>.Instance);
        await _worker.InitializeAsync();
        await _webHost.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        await _webHost.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    public void Dispose()
    {
        _worker.Dispose();
        _webHost.Dispose();
    }

    [Fact]
    public async Task GetMessageAsync_OtherProcessChangedIt_SeesTheChangeNotItsCachedCopy()
    {
        await CommitMessageAsync(_worker, "m1", flags: []);
        Assert.Empty((await _webHost.GetMessageAsync("m1"))!.Locations[0].Flags);

        var changed = (await _worker.GetMessageAsync("m1"))!;
        changed.Locations[0].Flags.Add("\\Seen");
        await CommitAsync(_worker, changed);

        Assert.Equal(["\\Seen"], (await _webHost.GetMessageAsync("m1"))!.Locations[0].Flags);
    }

    [Fact]
    public async Task GetMessageAsync_OtherProcessCommittedRightAfterOurCommit_SeesItsChangeNotTheCachedCopy()
    {
        await CommitMessageAsync(_worker, "m1", flags: []);
        Assert.Empty((await _worker.GetMessageAsync("m1"))!.Locations[0].Flags);
        var changed = (await _webHost.GetMessageAsync("m1"))!;
        changed.Locations[0].Flags.Add("\\Seen");
        // The other process takes the write lock the instant the worker's COMMIT frees it, before the worker has looked
        // at the store's data version: that version then holds both commits, and only one of them is the worker's.
        _worker.AfterCommitForTests = () =>
        {
            _worker.AfterCommitForTests = null;
            CommitAsync(_webHost, changed).GetAwaiter().GetResult();
        };

        await CommitMessageAsync(_worker, "m2", flags: []);

        Assert.Equal(["\\Seen"], (await _worker.GetMessageAsync("m1"))!.Locations[0].Flags);
    }

    [Fact]
    public async Task GetSessionAsync_AskedBeforeOtherProcessCreatedIt_FoundAfterwards()
    {
        Assert.Null(await _webHost.GetSessionAsync("s1"));

        var batch = new StoreBatch();
        batch.Events.Add(Event("e1"));
        batch.Sessions["s1"] = new SessionObject { Id = "s1", User = "alice@example.org", ClientIp = "192.0.2.7", LoginAt = T0 };
        await _worker.CommitAsync(batch);

        Assert.Equal("192.0.2.7", (await _webHost.GetSessionAsync("s1"))?.ClientIp);
    }

    [Fact]
    public async Task CommitAsync_StaleCopyAfterOtherProcessWrote_ConflictNotLostUpdate()
    {
        await CommitMessageAsync(_worker, "m1", flags: []);
        var stale = (await _worker.GetMessageAsync("m1"))!;
        var fresh = (await _webHost.GetMessageAsync("m1"))!;
        fresh.Locations[0].Flags.Add("\\Flagged");
        await CommitAsync(_webHost, fresh);

        stale.Locations[0].Flags.Add("\\Seen");
        await Assert.ThrowsAsync<StoreConflictException>(() => CommitAsync(_worker, stale));

        Assert.Equal(["\\Flagged"], (await _worker.GetMessageAsync("m1"))!.Locations[0].Flags);
    }

    [Fact]
    public async Task GetEventAsync_NotificationStoredCompressed_ByteExactAndSmallerOnDisk()
    {
        var raw = Encoding.UTF8.GetBytes(
            """{"event":"FlagsSet","timestamp":"2026-11-29T09:00:00.123Z","service":"imap","mailboxID":"sufr9a0wrxwpaaifzy6ge6cu","uri":"imap://imap.example.org/user/zoe.quint%40example.org;UIDVALIDITY=1795951197","modseq":41,"uidset":"4711","vnd.cmu.midset":["<unique.8812@mx.example.net>"],"flagNames":"\\Flagged","pid":4242,"user":"zoe.quint@example.org","vnd.cmu.mbtype":"e","serverFQDN":"imap.example.org","vnd.cmu.sessionId":"cyrus-1795999999-4242-1-999"}""");
        var batch = new StoreBatch();
        batch.Events.Add(Event("e1", raw));
        await _worker.CommitAsync(batch);

        var read = await _webHost.GetEventAsync("e1");

        Assert.Equal(raw, read!.Raw.ToArray());
        using var c = new SqliteConnection($"Data Source={_worker.DatabasePath};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT length(raw), raw_codec FROM events WHERE id = 'e1'";
        using var r = cmd.ExecuteReader();
        Assert.True(r.Read());
        Assert.True(r.GetInt64(0) < raw.Length / 2, $"stored {r.GetInt64(0)} bytes for a {raw.Length}-byte notification");
        Assert.NotEqual(0, r.GetInt64(1));
    }

    [Fact]
    public async Task GetEventAsync_TinyNotification_KeptAsReceived()
    {
        var raw = "{}"u8.ToArray();
        var batch = new StoreBatch();
        batch.Events.Add(Event("e1", raw));
        await _worker.CommitAsync(batch);

        Assert.Equal(raw, (await _worker.GetEventAsync("e1"))!.Raw.ToArray());
    }

    // The worker tells the broker a job is DONE as soon as its commit returns, and a DONE job is never handed out
    // again: a commit that a power cut could still take back (synchronous=NORMAL in WAL mode fsyncs only at
    // checkpoints) would lose events the broker counts as stored. FULL fsyncs the WAL before the commit returns.
    [Fact]
    public void Writer_CommitsAreFsyncedBeforeTheyReturn()
    {
        const long Full = 2;
        Assert.Equal(Full, _worker.WriterPragma("synchronous"));
        Assert.Equal("wal", _worker.WriterPragma("journal_mode"));
    }

    /// <summary>A FlagsSet event of Alice's (also what other store tests write).</summary>
    internal static StoredEvent Event(string id, byte[]? raw = null)
    {
        raw ??= Encoding.UTF8.GetBytes($$"""{"event":"FlagsSet","id":"{{id}}"}""");
        return new StoredEvent
        {
            Id = id,
            Type = EventType.FlagsSet,
            Name = "FlagsSet",
            Timestamp = T0,
            User = Alice.User,
            RawSha256 = Convert.ToHexStringLower(SHA256.HashData(raw)),
            Raw = raw,
        };
    }

    private static async Task CommitMessageAsync(EmbeddedStore store, string key, string[] flags)
    {
        var m = new MessageObject { Key = key, FirstSeen = T0 };
        var at = new MessageLocation { FolderId = "f1", Uid = 1, Since = T0 };
        at.Flags.UnionWith(flags);
        m.Locations.Add(at);
        await CommitAsync(store, m);
    }

    private static async Task CommitAsync(EmbeddedStore store, MessageObject m)
    {
        var batch = new StoreBatch();
        batch.Events.Add(Event("e-" + Guid.NewGuid().ToString("N")));
        batch.Messages[m.Key] = m;
        await store.CommitAsync(batch);
    }
}
