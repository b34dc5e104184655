using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Bonnie.Shared.Cyrus;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Bench;

/// <summary>
/// Ingest and query figures of the embedded store: N realistic Cyrus 3.6 notifications through the real processor and
/// handlers (parse, change recording, events, terms, full text, objects, changelog) in batches, next to plain batched
/// SQLite inserts of the same rows in the same run; then ten typical officers' queries (p50/p95) and the store's size.
/// </summary>
internal static class StoreBench
{
    public static int Run(string[] args)
    {
        var events = BenchArgs.Int(args, "--events", 1_000_000);
        var batchSize = BenchArgs.Int(args, "--batch", 2_000);
        var users = BenchArgs.Int(args, "--users", Math.Max(50, events / 1_000));
        var keep = args.Contains("--keep");
        var root = Directory.CreateTempSubdirectory("bonnie-bench-store-").FullName;
        Console.WriteLine($"store bench: {events:N0} realistic notifications, {users:N0} users, batches of {batchSize:N0}, in {root}");
        try
        {
            var baseline = RunBaseline(Path.Combine(root, "baseline"), events, users, batchSize);
            Console.WriteLine($"plain batched SQLite inserts of the same rows: {baseline:N0} rows/s");
            // Sampling allocations slows the run a little: its rate is for reading next to the types, not for the record.
            using var allocations = args.Contains("--allocations") ? new AllocationListener() : null;
            var (rate, store) = RunStore(Path.Combine(root, "store"), events, users, batchSize);
            allocations?.Dispose();
            allocations?.Print(events);
            Console.WriteLine($"through processor + handlers into the embedded store: {rate:N0} events/s (ratio to plain inserts {rate / baseline:N2})");
            if (BenchArgs.Text(args, "--payloads") is { } payloadConcurrencies)
            {
                // The deliveries' messages from a Cyrus spool on this host, fetched, hashed, compressed and written
                // durably (fsynced) before each commit, as a worker on the IMAP host does; once per fetch concurrency.
                var run = 0;
                foreach (var concurrency in payloadConcurrencies.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)))
                {
                    // A directory per run: a store that already holds these events would store nothing again.
                    var dir = Path.Combine(root, "payloads-" + (run++).ToString(CultureInfo.InvariantCulture));
                    var (withPayloads, payloadStore) = RunStore(dir, events, users, batchSize, spool: Path.Combine(dir, "spool"), payloadConcurrency: concurrency);
                    var payloadBytes = new DirectoryInfo(Path.Combine(dir, "payloads")).EnumerateFiles("*", SearchOption.AllDirectories).ToList();
                    Console.WriteLine($"the same with every delivery's message fetched from a spool and kept ({payloadBytes.Count:N0} payloads, {payloadBytes.Sum(f => f.Length) / 1e6:N0} MB compressed), " +
                        $"{concurrency} fetches at once: {withPayloads:N0} events/s (ratio to the store without payloads {withPayloads / rate:N2})");
                    if (run == 1)
                    {
                        // Once: the officers' queries where the full text also holds the deliveries' bodies, and the
                        // size of a store that keeps its payloads.
                        Console.WriteLine("queries on the store with the deliveries' bodies in its full text:");
                        Queries(payloadStore, events, users);
                        payloadStore.Dispose();
                        SqliteConnection.ClearAllPools();
                        Checkpoint(Path.Combine(dir, "bonnie.db"));
                        var records = new DirectoryInfo(dir).EnumerateFiles("*", SearchOption.TopDirectoryOnly).Sum(f => f.Length);
                        var kept = payloadBytes.Sum(f => f.Length);
                        Console.WriteLine($"store with payloads: records {records / 1e9 * 1_000_000 / events:N2} GB + payloads {kept / 1e9 * 1_000_000 / events:N2} GB per million events");
                    }
                    else
                    {
                        payloadStore.Dispose();
                    }
                }
            }
            if (args.Contains("--identity"))
            {
                var (resolved, resolvedStore) = RunStore(Path.Combine(root, "identity"), events, users, batchSize, new ResolvedDirectory());
                resolvedStore.Dispose();
                Console.WriteLine($"the same with every user and ACL subject resolved to a person: {resolved:N0} events/s (ratio to plain inserts {resolved / baseline:N2}, to the store without identity {resolved / rate:N2})");
            }
            using (store)
            {
                Queries(store, events, users);
            }
            SqliteConnection.ClearAllPools();
            Checkpoint(Path.Combine(root, "store", "bonnie.db"));
            var bytes = new DirectoryInfo(Path.Combine(root, "store")).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            Console.WriteLine($"store size: {bytes / 1e6:N1} MB for {events:N0} events = {bytes / 1e9 * 1_000_000 / events:N2} GB per million events");
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (!keep)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>
    /// The ten queries alone, on a store an earlier <c>store --keep</c> left (its directory's <c>store</c>), so that two
    /// builds of the search can be compared on the same data, run after run.
    /// </summary>
    public static int RunQueries(string[] args)
    {
        if (BenchArgs.Text(args, "--store") is not { } dir || !File.Exists(Path.Combine(dir, "bonnie.db")))
        {
            Console.Error.WriteLine("usage: queries --store <the store directory a 'store --keep' run left> [--events N] [--users U] (as that run had them)");
            return 2;
        }
        var events = BenchArgs.Int(args, "--events", 1_000_000);
        var users = BenchArgs.Int(args, "--users", Math.Max(50, events / 1_000));
        using var store = OpenStore(dir);
        // --query "<q>" (repeatable): these instead of the ten, each run 20 times as written.
        var own = args.Select((a, i) => (a, i)).Where(p => p.a == "--query" && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToList();
        if (own.Count > 0)
        {
            // As the search page asks (the total, the page and every facet), or --facets none: the total and the page.
            var facets = BenchArgs.Text(args, "--facets") == "none" ? Facets.None : Facets.All;
            Time(store, own.Select(q => (q, (Func<string>)(() => q), facets)).ToArray(), runs: 20);
        }
        else
        {
            Queries(store, events, users);
        }
        return 0;
    }

    internal static (double Rate, EmbeddedStore Store) RunStore(string dir, int events, int users, int batchSize, IIdentityEnricher? identity = null,
        string? spool = null, int payloadConcurrency = 1)
    {
        var store = OpenStore(dir);
        var processor = Processor(store, dir, identity, spool, payloadConcurrency);
        var generator = new NotificationGenerator(users, events);
        var processing = new Stopwatch();
        var batch = new List<Job>(batchSize);
        var done = 0;
        var report = Stopwatch.StartNew();
        while (done < events)
        {
            batch.Clear();
            for (var i = 0; i < batchSize && done + i < events; i++)
            {
                var n = generator.Next();
                // Attempt 0: a job's first hand-out, as the broker numbers it (a retried delivery is looked up first).
                batch.Add(new Job(Convert.ToHexStringLower(SHA256.HashData(n.Bytes)), n.Bytes, 0, n.Timestamp));
                if (spool is not null && n.Type == "MessageNew")
                {
                    LayOutSpoolFile(spool, n);
                }
            }
            processing.Start();
            var outcomes = processor.ProcessBatchAsync(batch).GetAwaiter().GetResult();
            processing.Stop();
            if (outcomes.FirstOrDefault(o => o is not JobOutcome.Done) is { } bad)
            {
                throw new InvalidOperationException($"a job was not done: {bad}");
            }
            done += batch.Count;
            if (report.Elapsed > TimeSpan.FromSeconds(30))
            {
                Console.WriteLine($"  {done:N0} events, {done / processing.Elapsed.TotalSeconds:N0} events/s so far");
                report.Restart();
            }
        }
        return (events / processing.Elapsed.TotalSeconds, store);
    }

    /// <summary>A fresh embedded store with the page cache the product runs with, so the figures are the product's.</summary>
    internal static EmbeddedStore OpenStore(string dir)
    {
        var store = new EmbeddedStore(dir, new EmbeddedStoreOptions().CacheSizeMegabytes, NullLogger<EmbeddedStore>.Instance);
        store.InitializeAsync().GetAwaiter().GetResult();
        return store;
    }

    /// <summary>
    /// The worker's processor and handlers over <paramref name="store"/>. Without a spool no payload source, and no retry
    /// for one (the broker counts attempts from 0): every delivery is kept without its payload at once, so the figure is
    /// the store's. With one, the Cyrus spool source the worker uses on the IMAP host.
    /// </summary>
    internal static StoreJobProcessor Processor(EmbeddedStore store, string dir, IIdentityEnricher? identity = null, string? spool = null, int payloadConcurrency = 1)
    {
        var payloads = new PayloadDirectory(Path.Combine(dir, "payloads"), compress: true);
        IPayloadSource[] sources = spool is null ? [] : [new SpoolPayloadSource([spool])];
        var fetcher = new PayloadFetcher(sources, payloads, new PayloadOptions { MaxAttempts = 0, FetchConcurrency = payloadConcurrency }, NullLogger<PayloadFetcher>.Instance);
        return new StoreJobProcessor(store, [new FolderHandler(), new MessageHandler(), new SessionHandler()], fetcher,
            TimeProvider.System, NullLogger<StoreJobProcessor>.Instance, identity);
    }

    /// <summary>
    /// The delivered message as Cyrus keeps it in its spool (not timed): headers from the notification and a body of
    /// the notification's messageSize in words, so it compresses like mail does. A message delivered to several
    /// mailboxes would be one payload; here each is distinct.
    /// </summary>
    private static void LayOutSpoolFile(string spool, Notification n)
    {
        var json = Encoding.UTF8.GetString(n.Bytes);
        var mailboxId = NotificationGenerator.Between(json, "\"mailboxID\":\"", "\"")!;
        var uid = uint.Parse(NotificationGenerator.Between(json, ";UID=", "\"")!, CultureInfo.InvariantCulture);
        var size = int.Parse(NotificationGenerator.Between(json, "\"messageSize\":", ",")!, CultureInfo.InvariantCulture);
        var mid = NotificationGenerator.Between(json, "\"vnd.cmu.midset\":[\"", "\"")!;
        var text = new StringBuilder(size + 512);
        text.Append("From: Sender Name <sender@example.net>\r\nTo: ").Append(n.User).Append("\r\nSubject: ").Append(n.Subject)
            .Append("\r\nMessage-ID: ").Append(mid).Append("\r\nDate: ").Append(n.Timestamp.ToString("r", CultureInfo.InvariantCulture))
            .Append("\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
        var random = new Random(uid.GetHashCode() ^ mailboxId.Length);
        while (text.Length < size)
        {
            text.Append(NotificationGenerator.Words[random.Next(NotificationGenerator.Words.Length)]).Append(random.Next(10) == 0 ? ".\r\n" : " ");
        }
        var path = CyrusSpool.PathFor(spool, mailboxId, uid)!;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.ToString());
    }

    private static readonly string[] BaselineParameters = ["$s", "$id", "$t", "$ts", "$u", "$sv", "$se", "$f", "$sub", "$raw"];

    private static double RunBaseline(string dir, int events, int users, int batchSize)
    {
        Directory.CreateDirectory(dir);
        using var c = new SqliteConnection($"Data Source={Path.Combine(dir, "plain.db")};Pooling=False");
        c.Open();
        Exec(c, "PRAGMA journal_mode=WAL");
        // As durable as the store: each batch fsynced before the next (the store runs synchronous=FULL, see EmbeddedStore).
        Exec(c, "PRAGMA synchronous=FULL");
        Exec(c, "CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT, ts INTEGER, user TEXT, service TEXT, session TEXT, folder TEXT, subject TEXT, raw BLOB)");
        var generator = new NotificationGenerator(users, events);
        var sw = new Stopwatch();
        var rows = new List<Notification>(batchSize);
        var done = 0;
        while (done < events)
        {
            rows.Clear();
            for (var i = 0; i < batchSize && done + i < events; i++)
            {
                rows.Add(generator.Next());
            }
            sw.Start();
            using (var tx = c.BeginTransaction())
            using (var cmd = c.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT INTO events(seq, id, type, ts, user, service, session, folder, subject, raw) VALUES ($s, $id, $t, $ts, $u, $sv, $se, $f, $sub, $raw)";
                var p = BaselineParameters.Select(n => cmd.Parameters.Add(new SqliteParameter(n, null))).ToArray();
                for (var i = 0; i < rows.Count; i++)
                {
                    var r = rows[i];
                    p[0].Value = r.Timestamp.ToUnixTimeMilliseconds() * 4096 + i;
                    p[1].Value = Convert.ToHexStringLower(SHA256.HashData(r.Bytes));
                    p[2].Value = r.Type;
                    p[3].Value = r.Timestamp.ToUnixTimeMilliseconds();
                    p[4].Value = r.User;
                    p[5].Value = "imap";
                    p[6].Value = r.Session;
                    p[7].Value = r.Folder;
                    p[8].Value = (object?)r.Subject ?? DBNull.Value;
                    p[9].Value = r.Bytes;
                    cmd.ExecuteNonQuery();
                }
                tx.Commit();
            }
            sw.Stop();
            done += rows.Count;
        }
        return events / sw.Elapsed.TotalSeconds;
    }

    private static void Queries(EmbeddedStore store, int events, int users)
    {
        var random = new Random(7);
        var days = NotificationGenerator.Span.TotalDays;
        string Day() => NotificationGenerator.Start.AddDays(random.Next((int)days)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        string User() => NotificationGenerator.UserName(random.Next(users));
        string Week(string q)
        {
            var from = NotificationGenerator.Start.AddDays(random.Next((int)days - 7));
            return $"{q} after:{from:yyyy-MM-dd} before:{from.AddDays(7):yyyy-MM-dd}";
        }
        var queries = new (string Name, Func<string> Query, Facets Facets)[]
        {
            ("one user's trail", () => $"user:{User()}", Facets.None),
            ("moves in a week", () => Week("event:MessageMove"), Facets.None),
            ("a user's Archive folder", () => $"user:{User()} folder:Archive", Facets.None),
            ("one Message-ID", () => $"messageid:{NotificationGenerator.MessageId(random.Next(Math.Max(1, events / 4)))}", Facets.None),
            ("full text top 50", () => NotificationGenerator.Words[random.Next(NotificationGenerator.Words.Length)], Facets.None),
            ("subject phrase of a user", () => $"subject:\"{NotificationGenerator.Words[random.Next(NotificationGenerator.Words.Length)]} report\" user:{User()}", Facets.None),
            ("mail from a sender", () => $"from:{NotificationGenerator.Sender(random.Next(NotificationGenerator.Senders))}", Facets.None),
            ("flagged on a day", () => $"flag:\\Flagged on:{Day()}", Facets.None),
            ("deliveries to a user, faceted", () => $"event:MessageNew user:{User()}", Facets.All),
            ("logins from a network, not imap", () => $"event:Login ip:192.0.2.* -{NotificationGenerator.Words[random.Next(NotificationGenerator.Words.Length)]}", Facets.None),
        };
        Time(store, queries, runs: 40);
    }

    private static void Time(EmbeddedStore store, (string Name, Func<string> Query, Facets Facets)[] queries, int runs)
    {
        Console.WriteLine($"{"query",-34} {"p50 ms",8} {"p95 ms",8} {"hits (last run)",16}");
        foreach (var (name, query, facets) in queries)
        {
            var times = new List<double>();
            long hits = 0;
            for (var i = 0; i < runs; i++)
            {
                var search = new EventSearch { Query = QueryParser.Parse(query()), Limit = 50, Facets = facets };
                var sw = Stopwatch.StartNew();
                hits = store.SearchEventsAsync(search).GetAwaiter().GetResult().Total;
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"{name,-34} {times[times.Count / 2],8:N1} {times[(int)(times.Count * 0.95)],8:N1} {hits,16:N0}");
        }
    }

    private static void Checkpoint(string db)
    {
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        Exec(c, "PRAGMA wal_checkpoint(TRUNCATE)");
    }

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }
}

internal sealed record Notification(byte[] Bytes, string Type, string User, DateTimeOffset Timestamp, string Session, string Folder, string? Subject);

/// <summary>
/// Cyrus 3.6 notifications shaped like the captured ones, for a population of users: deliveries, reads, flags, copies,
/// moves (with their expunge), expunges, trash, logins and logouts, modseqs. Deterministic for a given seed.
/// </summary>
internal sealed class NotificationGenerator(int users, int events)
{
    public static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Span = TimeSpan.FromDays(30);
    public const int Senders = 2_000;
    public static readonly string[] Words =
    [
        "quarterly", "invoice", "contract", "meeting", "budget", "project", "merger", "payroll", "audit", "shipment", "proposal", "renewal",
        "forecast", "schedule", "holiday", "release", "incident", "customer", "supplier", "pricing", "agenda", "minutes", "draft", "review",
    ];

    private readonly Random _random = new(42);
    private readonly UserState[] _users = Enumerable.Range(0, users).Select(i => new UserState(i)).ToArray();
    private readonly double _step = Span.TotalMilliseconds / Math.Max(1, events);
    private readonly Queue<string> _pending = new();
    private int _n;
    private int _messages;

    public static string UserName(int i) => $"user{i}@example.org";
    public static string Sender(int i) => $"sender{i}@example.net";
    public static string MessageId(int i) => $"<{i}.{i * 7919 % 100_000}@mail.example.net>";

    private sealed class UserState(int i)
    {
        public string Login { get; } = UserName(i);
        public string Local { get; } = $"user{i}";
        public string Inbox { get; } = $"in{i:x20}x";
        public string Archive { get; } = $"ar{i:x20}x";
        public uint NextInbox { get; set; } = 1;
        public uint NextArchive { get; set; } = 1;
        public List<(uint Uid, string Mid)> Live { get; } = [];
        public string? Session { get; set; }
        public int Pid { get; } = 10_000 + i;
    }

    public Notification Next()
    {
        var at = Start.AddMilliseconds(_n++ * _step);
        var ts = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (_pending.TryDequeue(out var queued))
        {
            return Make(queued.Replace("@TS@", ts, StringComparison.Ordinal), at);
        }
        var u = _users[_random.Next(_users.Length)];
        var roll = _random.Next(100);
        u.Session ??= $"cyrus-{at.ToUnixTimeSeconds()}-{u.Pid}-1-{_random.NextInt64():x}";
        if (roll < 6)
        {
            return roll < 3 ? Logout(u, ts, at) : Login(u, ts, at);
        }
        if (roll < 36 || u.Live.Count == 0)
        {
            return Deliver(u, ts, at);
        }
        var (uid, mid) = u.Live[_random.Next(u.Live.Count)];
        return roll switch
        {
            < 51 => Simple(u, "MessageRead", ts, at, uid, mid, null),
            < 61 => Simple(u, "FlagsSet", ts, at, uid, mid, _random.Next(3) == 0 ? "\\\\Flagged $Important" : "\\\\Flagged"),
            < 65 => Simple(u, "FlagsClear", ts, at, uid, mid, "\\\\Flagged"),
            < 70 => Copy(u, ts, at, uid, mid, move: false),
            < 75 => Copy(u, ts, at, uid, mid, move: true),
            < 80 => Expunge(u, ts, at, uid, mid),
            < 83 => Simple(u, "MessageTrash", ts, at, uid, mid, null),
            < 89 => Modseq(u, ts, at),
            < 94 => Login(u, ts, at),
            _ => Logout(u, ts, at),
        };
    }

    private static Notification Make(string json, DateTimeOffset at)
    {
        var type = json[10..json.IndexOf('"', 10)];
        var user = Between(json, "\"user\":\"", "\"") ?? "";
        var session = Between(json, "\"vnd.cmu.sessionId\":\"", "\"") ?? "";
        var folder = Between(json, "\"uri\":\"", "\"") ?? "";
        var subject = Between(json, "\"subject-for-bench\":\"", "\"");
        return new Notification(Encoding.UTF8.GetBytes(json), type, user, at, session, folder, subject);
    }

    internal static string? Between(string s, string start, string end)
    {
        var i = s.IndexOf(start, StringComparison.Ordinal);
        if (i < 0)
        {
            return null;
        }
        i += start.Length;
        var j = s.IndexOf(end, i, StringComparison.Ordinal);
        return j < 0 ? null : s[i..j];
    }

    private static string InboxUri(UserState u) => $"imap://imap.example.org/user/{u.Local}%40example.org;UIDVALIDITY=1795951197";
    private static string ArchiveUri(UserState u) => $"imap://imap.example.org/user/{u.Local}/Archive%40example.org;UIDVALIDITY=1795951233";

    private Notification Deliver(UserState u, string ts, DateTimeOffset at)
    {
        var uid = u.NextInbox++;
        var mid = MessageId(_messages++);
        var subject = $"{Words[_random.Next(Words.Length)]} {Words[_random.Next(Words.Length)]} report {_random.Next(1000)}";
        var sender = Sender(_random.Next(Senders));
        var guid = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(mid)))[..24];
        u.Live.Add((uid, mid));
        if (u.Live.Count > 64)
        {
            u.Live.RemoveAt(0);
        }
        var json = "{\"event\":\"MessageNew\",\"timestamp\":\"" + ts + "\",\"service\":\"lmtp\",\"mailboxID\":\"" + u.Inbox + "\",\"uri\":\"" + InboxUri(u) + "/;UID=" + uid +
            "\",\"modseq\":" + (uid + 1) + ",\"messages\":" + u.Live.Count + ",\"vnd.cmu.unseenMessages\":1,\"uidnext\":" + (uid + 1) + ",\"vnd.cmu.midset\":[\"" + mid +
            "\"],\"pid\":12863,\"user\":\"" + u.Login + "\",\"messageSize\":" + (800 + _random.Next(40_000)) + ",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\"," +
            "\"vnd.cmu.mailboxACL\":\"" + u.Login + "\\tlrswipkxtecdan\\t\",\"vnd.cmu.envelope\":\"(\\\"Sun, 29 Nov 2026 11:20:28 -0000\\\" \\\"" + subject +
            "\\\" ((\\\"Sender Name\\\" NIL \\\"" + sender.Split('@')[0] + "\\\" \\\"example.net\\\")) ((\\\"Sender Name\\\" NIL \\\"" + sender.Split('@')[0] +
            "\\\" \\\"example.net\\\")) ((\\\"Sender Name\\\" NIL \\\"" + sender.Split('@')[0] + "\\\" \\\"example.net\\\")) ((NIL NIL \\\"" + u.Local +
            "\\\" \\\"example.org\\\")) NIL NIL NIL \\\"" + mid + "\\\")\",\"vnd.cmu.sessionId\":\"cyrus-lmtp-" + _n +
            "\",\"bodyStructure\":\"(\\\"TEXT\\\" \\\"PLAIN\\\" (\\\"CHARSET\\\" \\\"us-ascii\\\") NIL NIL \\\"7BIT\\\" 23 1 NIL NIL NIL NIL)\",\"vnd.cmu.emailid\":\"M" + guid +
            "\",\"vnd.cmu.threadid\":\"NIL\",\"subject-for-bench\":\"" + subject + "\"}";
        return Make(json, at);
    }

    private Notification Simple(UserState u, string type, string ts, DateTimeOffset at, uint uid, string mid, string? flags)
    {
        var json = "{\"event\":\"" + type + "\",\"timestamp\":\"" + ts + "\",\"service\":\"imap\",\"mailboxID\":\"" + u.Inbox + "\",\"uri\":\"" + InboxUri(u) +
            "\",\"modseq\":" + (_n % 100_000) + ",\"messages\":" + u.Live.Count + ",\"vnd.cmu.unseenMessages\":2,\"uidnext\":" + u.NextInbox + ",\"uidset\":\"" + uid +
            "\",\"vnd.cmu.midset\":[\"" + mid + "\"]," + (flags is null ? "" : "\"flagNames\":\"" + flags + "\",") + "\"pid\":" + u.Pid + ",\"user\":\"" + u.Login +
            "\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"" + u.Login + "\\tlrswipkxtecdan\\t\",\"vnd.cmu.sessionId\":\"" + u.Session + "\"}";
        return Make(json, at);
    }

    private Notification Copy(UserState u, string ts, DateTimeOffset at, uint uid, string mid, bool move)
    {
        var newUid = u.NextArchive++;
        var json = "{\"event\":\"vnd.cmu.Message" + (move ? "Move" : "Copy") + "\",\"timestamp\":\"" + ts + "\",\"service\":\"imap\",\"oldMailboxID\":\"" + InboxUri(u) +
            "\",\"vnd.cmu.oldUidset\":\"" + uid + "\",\"mailboxID\":\"" + u.Archive + "\",\"uri\":\"" + ArchiveUri(u) + "\",\"modseq\":4,\"messages\":3,\"vnd.cmu.unseenMessages\":2,\"uidnext\":" +
            (newUid + 1) + ",\"uidset\":\"" + newUid + "\",\"vnd.cmu.midset\":[\"" + mid + "\"],\"pid\":" + u.Pid + ",\"user\":\"" + u.Login +
            "\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"" + u.Login + "\\tlrswipkxtecdan\\t\",\"vnd.cmu.sessionId\":\"" + u.Session + "\"}";
        if (move)
        {
            u.Live.RemoveAll(l => l.Uid == uid);
            _pending.Enqueue(ExpungeJson(u, "@TS@", uid, mid));
        }
        return Make(json, at);
    }

    private Notification Expunge(UserState u, string ts, DateTimeOffset at, uint uid, string mid)
    {
        u.Live.RemoveAll(l => l.Uid == uid);
        return Make(ExpungeJson(u, ts, uid, mid), at);
    }

    private string ExpungeJson(UserState u, string ts, uint uid, string mid)
        => "{\"event\":\"MessageExpunge\",\"timestamp\":\"" + ts + "\",\"service\":\"imap\",\"mailboxID\":\"" + u.Inbox + "\",\"uri\":\"" + InboxUri(u) +
            "\",\"modseq\":9,\"messages\":2,\"vnd.cmu.unseenMessages\":2,\"uidnext\":" + u.NextInbox + ",\"uidset\":\"" + uid + "\",\"vnd.cmu.midset\":[\"" + mid +
            "\"],\"pid\":" + u.Pid + ",\"user\":\"" + u.Login + "\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"" + u.Login +
            "\\tlrswipkxtecdan\\t\",\"vnd.cmu.sessionId\":\"" + u.Session + "\",\"n\":" + _n + "}";

    private Notification Modseq(UserState u, string ts, DateTimeOffset at)
        => Make("{\"event\":\"MailboxModseq\",\"timestamp\":\"" + ts + "\",\"service\":\"imap\",\"mailboxID\":\"" + u.Inbox + "\",\"uri\":\"" + InboxUri(u) +
            "\",\"pid\":" + u.Pid + ",\"user\":\"\",\"vnd.cmu.mbtype\":\"e\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.mailboxACL\":\"" + u.Login +
            "\\tlrswipkxtecdan\\t\",\"vnd.cmu.sessionId\":\"" + u.Session + "\",\"n\":" + _n + "}", at);

    private Notification Login(UserState u, string ts, DateTimeOffset at)
    {
        u.Session = $"cyrus-{at.ToUnixTimeSeconds()}-{u.Pid}-1-{_random.NextInt64():x}";
        return Make("{\"event\":\"Login\",\"timestamp\":\"" + ts + "\",\"service\":\"imap\",\"serverDomain\":\"192.0.2.1\",\"serverPort\":143,\"clientIP\":\"" +
            (_random.Next(2) == 0 ? "192.0.2." : "198.51.100.") + _random.Next(1, 255) + "\",\"clientPort\":" + _random.Next(1024, 65535) +
            ",\"uri\":\"imap://imap.example.org\",\"pid\":" + u.Pid + ",\"user\":\"" + u.Login + "\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.sessionId\":\"" + u.Session + "\"}", at);
    }

    private Notification Logout(UserState u, string ts, DateTimeOffset at)
    {
        var n = Make("{\"event\":\"Logout\",\"timestamp\":\"" + ts + "\",\"service\":\"imap\",\"serverDomain\":\"192.0.2.1\",\"serverPort\":143,\"clientIP\":\"192.0.2.9\",\"clientPort\":" + _random.Next(1024, 65535) + "," +
            "\"uri\":\"imap://imap.example.org\",\"pid\":" + u.Pid + ",\"user\":\"" + u.Login + "\",\"serverFQDN\":\"imap.example.org\",\"vnd.cmu.sessionId\":\"" + u.Session + "\"}", at);
        u.Session = null;
        return n;
    }
}

/// <summary>
/// A directory that knows everyone, answering from memory: what identity adds to the store's work (a snapshot per
/// event, the person's term and names, ACL subjects by person), without the LDAP round trips, which the real
/// enricher caches per login name and so pays per user, not per event.
/// </summary>
internal sealed class ResolvedDirectory : IIdentityEnricher
{
    private static readonly string[] Groups = ["staff", "sales", "legal", "engineering", "finance"];

    public Task<Enrichment> EnrichAsync(string loginName, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var (id, name, group) = Person(loginName);
        var identity = new EventIdentity
        {
            Status = IdentityStatus.Resolved,
            PersonId = id,
            DisplayName = name,
            Addresses = [loginName],
            Groups = ["staff", group],
            Roles = ["employee"],
            ResolvedAt = at,
        };
        return Task.FromResult(new Enrichment(identity, new PersonSighting(id, name, [loginName.ToLowerInvariant()], at)));
    }

    public Task<SubjectEnrichment> DescribeSubjectAsync(string identifier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var (id, name, _) = Person(identifier);
        var subject = new SubjectIdentity { Identifier = identifier, Kind = SubjectKind.Person, Status = IdentityStatus.Resolved, PersonId = id, DisplayName = name };
        return Task.FromResult(new SubjectEnrichment(subject, new PersonSighting(id, name, [identifier.ToLowerInvariant()], at)));
    }

    // Derived from the name alone, so every run of the bench gives everyone the same id and group.
    private static (string Id, string Name, string Group) Person(string login)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(login.ToLowerInvariant()));
        return (new Guid(hash.AsSpan(0, 16)).ToString(), "Person " + login.Split('@')[0], Groups[hash[16] % Groups.Length]);
    }
}
