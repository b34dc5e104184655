using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore
{
    /// <summary>
    /// Plans the query around a driver: the most selective exact term among the top-level conjuncts (walked in
    /// time order straight from the term index), else a full-text conjunct (FTS5 rowids are event time order),
    /// else the events table itself. The rest of the query filters the driver's rows.
    /// </summary>
    public async Task<EventPage> SearchEventsAsync(EventSearch search, CancellationToken cancellationToken = default)
    {
        long? cursor = search.Cursor is null ? null : Cursor.Decode(SearchCursor.Unbind(search.Cursor, search.Query));
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // A search's counts and facets run in SQLite, where a cancelled token is not looked at: a hundred short
        // prefixes over a large store took 24 s, and went on after the officer (or the API client) gave up. SQLite
        // asks a progress handler every so many steps of a statement, which stops it (SQLITE_INTERRUPT) once the
        // caller went away or the search ran past its time. Unlike sqlite3_interrupt, which only reaches a statement
        // running at that instant, it also stops every statement the search starts later.
        // The deadline is the clock's, read by the handler itself: a timer cancelling a token needs a thread of the pool,
        // which a busy host (or the first search of a test run) gave it only after the search had run 0.4 s past 20 ms.
        // A negative time (Timeout.InfiniteTimeSpan) is no limit, as for a token's CancelAfter.
        var deadline = SearchTimeout < TimeSpan.Zero
            ? long.MaxValue
            : Stopwatch.GetTimestamp() + (long)Math.Min(SearchTimeout.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);
        var looked = SearchProgressLooked;
        SQLitePCL.raw.sqlite3_progress_handler(c.Handle, ProgressSteps, _ =>
        {
            looked?.Invoke();
            return cancellationToken.IsCancellationRequested || Stopwatch.GetTimestamp() > deadline ? 1 : 0;
        }, null);
        try
        {
            return await SearchAsync(c, search, cursor, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == SQLitePCL.raw.SQLITE_INTERRUPT)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new QuerySyntaxException(
                $"The search was stopped after {SearchTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: it asks for more than the store can count in that time. "
                + "Narrow it: a time range (after:, before:), a user or a folder, or fewer and longer prefixes.", 0, "a narrower query");
        }
        finally
        {
            // The connection goes back to the pool: the next one to use it must not be stopped by this search's deadline.
            SQLitePCL.raw.sqlite3_progress_handler(c.Handle, 0, null, null);
        }
    }

    // Steps of SQLite's virtual machine between two looks at the deadline: well under a millisecond of work, and a
    // call into .NET rare enough not to show in a search's time.
    private const int ProgressSteps = 10_000;

    /// <summary>
    /// Called at each look of a search's progress handler, before it decides: a test leaves at a given look and counts
    /// the looks that follow, the work done after the caller left, instead of timing it on a noisy machine.
    /// </summary>
    internal Action? SearchProgressLooked { get; init; }

    /// <summary>How long one search may run before it is stopped with a message (<c>Bonnie:Store:SearchTimeout</c>).</summary>
    public TimeSpan SearchTimeout { get; init; } = EmbeddedStoreOptions.DefaultSearchTimeout;

    private static async Task<EventPage> SearchAsync(SqliteConnection c, EventSearch search, long? cursor, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(search.Limit, 1, EventSearch.MaxLimit);
        var newest = search.Query.Sort == SortOrder.NewestFirst;

        var root = ResolveFolders(c, search.Query.Root);
        var conjuncts = root is AndNode and ? and.Children.ToList() : [root];
        long lo = long.MinValue, hi = long.MaxValue;
        foreach (var r in conjuncts.OfType<TimeRangeNode>())
        {
            if (r.From is { } f)
            {
                lo = Math.Max(lo, SqlQueryTranslator.SequenceAt(f));
            }
            if (r.Until is { } u)
            {
                hi = Math.Min(hi, SqlQueryTranslator.SequenceAt(u));
            }
        }
        conjuncts.RemoveAll(n => n is TimeRangeNode or MatchAllNode);
        DropExclusionsThatCannotMatch(c, conjuncts);

        // Choose the driver: the terms of one conjunct (several when a login name names people: their events under
        // every name they carried, plus the name's events that were never resolved to anyone).
        List<string>? driverTerms = null;
        long driverCount = long.MaxValue;
        QueryNode? driverNode = null;
        List<string>? TermsOf(QueryNode n) => n switch
        {
            EventTypeNode t => [EventTerms.TypeTerm(t.Type)],
            KeywordNode { IsPrefix: false, Field: KeywordField.User } k =>
                [EventTerms.User + k.Value, .. PeopleNamed(c, k.Value).Select(id => EventTerms.Person + id.ToLowerInvariant())],
            KeywordNode { IsPrefix: false } k => [EventTerms.For(k.Field) + k.Value],
            FolderIdNode f => [EventTerms.Folder + f.Id.ToLowerInvariant()],
            // Alternatives of such terms (an accented name composed or decomposed, event:Login OR event:Logout) drive
            // as the union of their terms; without this an accented user: read every event (a review: 1 ms became 0.5 s).
            // SQLite takes at most 500 SELECTs in one compound: past that (names carried by very many people) the OR is
            // a filter, not the driver.
            OrNode o when o.Children.Select(TermsOf).ToList() is var parts && parts.All(p => p is not null)
                && parts.SelectMany(p => p!).Distinct(StringComparer.Ordinal).ToList() is { Count: <= MaxDriverTerms } union => union,
            _ => null,
        };
        foreach (var n in conjuncts)
        {
            var terms = TermsOf(n);
            if (terms is null)
            {
                continue;
            }
            var count = terms.Sum(term => Scalar(c, "SELECT count(*) FROM event_terms WHERE term = $t AND seq >= $lo AND seq < $hi", ("$t", term), ("$lo", lo), ("$hi", hi)));
            if (count < driverCount)
            {
                (driverTerms, driverCount, driverNode) = (terms, count, n);
            }
        }
        // Logins from an address or a network: walked from the index of Logins by address when that is fewer rows.
        KeywordNode? loginAddress = null;
        if (conjuncts.Any(n => n is EventTypeNode { Type: EventType.Login })
            && conjuncts.OfType<KeywordNode>().FirstOrDefault(k => k.Field == KeywordField.Ip) is { } address)
        {
            var probe = new SqlQueryTranslator();
            var count = Scalar(c, $"SELECT count(*) FROM events e {LoginsByAddress} WHERE {LoginAddress(probe, address)} AND e.seq >= {probe.Parameter(lo)} AND e.seq < {probe.Parameter(hi)}",
                probe.Parameters);
            if (count < driverCount)
            {
                (driverTerms, driverCount, driverNode, loginAddress) = (null, count, address, address);
            }
        }
        // A word, a phrase, or alternatives of them ("contract OR agreement"), as one FTS5 expression: the driver when no
        // term is, or when it matches fewer events than the best term.
        IReadOnlyList<TextNode>? fts = null;
        QueryNode? textPerEvent = null;
        if (loginAddress is null
            && conjuncts.Select(n => (Node: n, Texts: SqlQueryTranslator.TextAlternatives(n))).FirstOrDefault(p => p.Texts is not null) is (var text, { } texts))
        {
            if (driverTerms is null)
            {
                (fts, driverNode) = (texts, text);
            }
            else
            {
                // Counted only so far, so asking costs little next to what it decides: a rare phrase among a million
                // deliveries (event:MessageNew "merger plan") is its few events, and drives. A word far more common than
                // a small driver's events (user:x report: 974 events, 781,343 with the word) is looked up event by
                // event, ~36 µs each, rather than listed, ~0.15 µs per event holding it (116 ms against 35 there).
                // Never a prefix (report*): FTS5 builds a prefix's whole merged list for every event it is asked
                // about (these tables keep no prefix index), ~29 ms each (a review measured it).
                var perEvent = driverCount <= MaxDriverForTextPerEvent && !texts.Any(t => t.IsPrefix);
                var table = SqlQueryTranslator.FtsTable(texts[0]);
                var probe = new SqlQueryTranslator();
                var countedTo = perEvent ? driverCount * TextListPerDriverEvent : driverCount;
                var matches = Scalar(c, $"SELECT count(*) FROM (SELECT rowid FROM {table} WHERE {table} MATCH {probe.Parameter(SqlQueryTranslator.FtsExpression(texts))} "
                    + $"AND rowid >= {probe.Parameter(lo)} AND rowid < {probe.Parameter(hi)} LIMIT {probe.Parameter(countedTo)})", probe.Parameters);
                if (matches < driverCount)
                {
                    (fts, driverNode, driverTerms, driverCount) = (texts, text, null, matches);
                }
                else if (perEvent && matches >= countedTo)
                {
                    textPerEvent = text;
                }
            }
        }
        var driverTerm = driverTerms is { Count: 1 } ? driverTerms[0] : null;

        var translator = new SqlQueryTranslator();
        if (textPerEvent is not null)
        {
            translator.LookedUpPerEvent.Add(textPerEvent);
        }
        var rest = conjuncts.Where(n => !ReferenceEquals(n, driverNode)).Select(translator.Translate).ToList();
        string from, seqColumn;
        if (driverTerm is not null)
        {
            from = $"event_terms d CROSS JOIN events e {Narrow} ON e.seq = d.seq";
            seqColumn = "d.seq";
            rest.Insert(0, $"d.term = {translator.Parameter(driverTerm)}");
        }
        else if (driverTerms is not null)
        {
            // An event may carry several of the terms (its login name and its person): UNION keeps it once.
            var union = string.Join(" UNION ", driverTerms.Select(t => $"SELECT seq FROM event_terms WHERE term = {translator.Parameter(t)}"));
            from = $"({union}) d CROSS JOIN events e {Narrow} ON e.seq = d.seq";
            seqColumn = "d.seq";
        }
        else if (loginAddress is not null)
        {
            from = $"events e {LoginsByAddress}";
            seqColumn = "e.seq";
            rest.Insert(0, LoginAddress(translator, loginAddress));
        }
        else if (fts is not null)
        {
            var table = SqlQueryTranslator.FtsTable(fts[0]);
            from = $"{table} CROSS JOIN events e {Narrow} ON e.seq = {table}.rowid";
            seqColumn = $"{table}.rowid";
            rest.Insert(0, $"{table} MATCH {translator.Parameter(SqlQueryTranslator.FtsExpression(fts))}");
        }
        else
        {
            from = $"events e {Narrow}";
            seqColumn = "e.seq";
        }
        if (lo != long.MinValue)
        {
            rest.Add($"{seqColumn} >= {translator.Parameter(lo)}");
        }
        if (hi != long.MaxValue)
        {
            rest.Add($"{seqColumn} < {translator.Parameter(hi)}");
        }
        var where = rest.Count == 0 ? "1" : string.Join(" AND ", rest);
        IReadOnlyList<KeyValuePair<string, object>> parameters = translator.Parameters;

        // Total: the driver's count when the query is nothing but the driver, else counted.
        long? total;
        if (driverTerm is not null && conjuncts.Count == 1)
        {
            total = driverCount;
        }
        else if (loginAddress is not null && conjuncts.All(n => ReferenceEquals(n, loginAddress) || n is EventTypeNode { Type: EventType.Login }))
        {
            // Nothing but Logins and their address: the probe that chose the driver counted exactly these.
            total = driverCount;
        }
        else if (fts is not null && conjuncts.Count == 1 && lo == long.MinValue && hi == long.MaxValue)
        {
            var table = SqlQueryTranslator.FtsTable(fts[0]);
            total = Scalar(c, $"SELECT count(*) FROM {table} WHERE {table} MATCH $q", ("$q", SqlQueryTranslator.FtsExpression(fts)));
        }
        else if ((driverTerms is not null || fts is not null) && driverCount <= MaxMatchesListed)
        {
            // A driver of few events: the query's matches are found once, and the page and each facet read that list
            // instead of evaluating the whole query again. A subject phrase of one user built the phrase's list of
            // events (every event whose subject holds its commonest word) once for the count and again for the page:
            // p95 100 ms over a million events.
            var matches = Sequences(c, $"SELECT {seqColumn} FROM {from} WHERE {where}", translator.Parameters);
            total = matches.Count;
            parameters = [new("$matches", "[" + string.Join(',', matches.Select(m => m.ToString(CultureInfo.InvariantCulture))) + "]")];
            from = $"events e {Narrow}";
            seqColumn = "e.seq";
            where = "e.seq IN (SELECT value FROM json_each($matches))";
        }
        else if (search.Facets == Facets.None)
        {
            total = Scalar(c, $"SELECT count(*) FROM {from} WHERE {where}", parameters);
        }
        else
        {
            // Counted by the facets' pass below, which reads every match anyway: counting first read them twice.
            total = null;
        }

        var pageWhere = where;
        var pageParameters = parameters.ToList();
        if (cursor is { } cur)
        {
            pageWhere += $" AND {seqColumn} {(newest ? "<" : ">")} $cursor";
            pageParameters.Add(new("$cursor", cur));
        }
        var items = new List<StoredEvent>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = $"SELECT {EventColumns} FROM {from} WHERE {pageWhere} ORDER BY {seqColumn} {(newest ? "DESC" : "ASC")} LIMIT {limit + 1}";
            AddParameters(cmd, pageParameters);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(ReadEvent(r));
            }
        }
        string? next = null;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = SearchCursor.Bind(Cursor.Encode(items[^1].Sequence), search.Query);
        }

        IReadOnlyDictionary<string, IReadOnlyList<FacetCount>> facets = new Dictionary<string, IReadOnlyList<FacetCount>>();
        if (search.Facets != Facets.None)
        {
            (var matched, facets) = CountFacets(c, search.Facets, from, where, parameters);
            total ??= matched;
        }
        return new EventPage(total ?? throw new UnreachableException("A search without facets counts its total first."), items, next) { Facets = facets };
    }

    /// <summary>
    /// "event:Login -word": no Login carries text, so excluding a word excludes nothing. Dropped before planning, so
    /// no plan (the index of Logins by address reads no type) has to look at a row or a word's list to find that out.
    /// </summary>
    private static void DropExclusionsThatCannotMatch(SqliteConnection c, List<QueryNode> conjuncts)
    {
        var types = conjuncts.OfType<EventTypeNode>().Select(t => t.Type.ToString()).ToList();
        if (types.Count == 0 || !conjuncts.Any(n => n is NotNode { Child: TextNode }))
        {
            return;
        }
        var probe = new SqlQueryTranslator();
        var list = string.Join(", ", types.Select(t => probe.Parameter(t)));
        if (Scalar(c, $"SELECT count(*) FROM text_types WHERE type IN ({list})", probe.Parameters) > 0)
        {
            return;
        }
        conjuncts.RemoveAll(n => n is NotNode { Child: TextNode });
    }

    // The filters a query applies to each candidate event (type, address, login, folder, person) read this narrow
    // index instead of the event's row, which holds the notification and every enriched field: counting the 75,600
    // Logins of a million events for an address prefix took 190 ms through the rows, 80 ms through the index. Only
    // the page's own rows are read whole. SQLite's planner prefers the row, so it is named.
    private const string Narrow = "INDEXED BY events_narrow";

    private const int MaxDriverTerms = 400;

    // A word beside a driver of at most this many events may be looked up event by event, when it is in at least this
    // many times more events than the driver has (both measured at a million events: see where they are used).
    private const long MaxDriverForTextPerEvent = 2_000;
    private const long TextListPerDriverEvent = 100;

    // Matches of a small driver listed once for the page and the facets (a list of this many is ~350 KB of JSON, read
    // by SQLite in a few milliseconds; a larger driver is counted and filtered where it lies).
    private const int MaxMatchesListed = 20_000;

    private const string LoginsByAddress = "INDEXED BY events_logins_by_address";

    /// <summary>
    /// Logins at an address or under a prefix, in the words of the partial index (the literal type is what lets SQLite
    /// use it; the address travels as a parameter).
    /// </summary>
    private static string LoginAddress(SqlQueryTranslator translator, KeywordNode address) => address.IsPrefix
        ? $"e.type = 'Login' AND lower(e.ip) >= {translator.Parameter(address.Value)} AND lower(e.ip) < {translator.Parameter(SqlQueryTranslator.PrefixEnd(address.Value))}"
        : $"e.type = 'Login' AND lower(e.ip) = {translator.Parameter(address.Value)}";

    /// <summary>
    /// Replaces each folder name (or prefix) with the folder that has, or ever had, that name when there is one (its
    /// events are then walked straight from the term index), or with the name itself when many folders carry it
    /// (every user's INBOX or Archive), which the statement resolves in one subquery however many there are.
    /// </summary>
    private static QueryNode ResolveFolders(SqliteConnection c, QueryNode node) => node switch
    {
        AndNode a => new AndNode(a.Children.Select(n => ResolveFolders(c, n)).ToList()) { Position = a.Position },
        OrNode o => new OrNode(o.Children.Select(n => ResolveFolders(c, n)).ToList()) { Position = o.Position },
        NotNode n => new NotNode(ResolveFolders(c, n.Child)) { Position = n.Position },
        KeywordNode { Field: KeywordField.Folder } k => ResolveFolder(c, k),
        _ => node,
    };

    private static QueryNode ResolveFolder(SqliteConnection c, KeywordNode k)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT DISTINCT folder_id FROM folder_aliases WHERE {SqlQueryTranslator.AliasCondition(k.IsPrefix, "$a", "$b")} LIMIT 2";
        cmd.Parameters.AddWithValue("$a", k.Value);
        cmd.Parameters.AddWithValue("$b", SqlQueryTranslator.PrefixEnd(k.Value));
        var ids = new List<string>();
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                ids.Add(r.GetString(0));
            }
        }
        return ids.Count switch
        {
            0 => new NotNode(new MatchAllNode()) { Position = k.Position },
            1 => new FolderIdNode(ids[0]) { Position = k.Position },
            _ => new FolderAliasNode(k.Value, k.IsPrefix) { Position = k.Position },
        };
    }

    /// <summary>
    /// Every facet asked for, counted in one pass over the query's matches, with how many matches it read. A GROUP BY
    /// per facet made SQLite sort every match once per facet (it groups by sorting), and an FTS driver builds its word's
    /// list once per facet: the four facets of a word in 781,343 of a million events took 2.7 s.
    /// Each facet gives its 50 largest buckets, ties in SQLite's order of the values (by code point); the day facet gives
    /// every day, newest first: a day left out would make the timeline's days add up to less than the total (ten years of
    /// days are 3,653 buckets).
    /// </summary>
    private static (long Matches, Dictionary<string, IReadOnlyList<FacetCount>> Facets) CountFacets(SqliteConnection c, Facets wanted,
        string from, string where, IReadOnlyList<KeyValuePair<string, object>> parameters)
    {
        var types = new TextCounts();
        var users = new TextCounts();
        var folders = new TextCounts();
        var days = new Dictionary<long, long>();
        long matches = 0;
        // The columns of the facets not asked for are NULL, so their values are never read.
        // Users lower-cased by SQLite, as user: terms match (and as Elasticsearch's normalizer keeps them): one login
        // written in two cases is one person's bucket, and the bucket's count is what a click on it finds.
        // A folder counts the events in it and the events that took a message or the folder out of it (a move's
        // source, a rename's old name): what folder: with its name finds.
        // The day is the floor of the event's millisecond (integer division rounds toward zero, which put the last
        // second before a midnight before 1970 on the next day: a review).
        var sql = $"""
            SELECT {(Wants(Facets.EventType) ? "e.type" : "NULL")},
                   {(Wants(Facets.User) ? "lower(e.user)" : "NULL")},
                   {(Wants(Facets.Folder) ? "e.folder_id" : "NULL")},
                   {(Wants(Facets.Folder) ? "CASE WHEN e.old_folder_id IS NOT e.folder_id THEN e.old_folder_id END" : "NULL")},
                   {(Wants(Facets.Day) ? "(e.ts - (((e.ts % 86400000) + 86400000) % 86400000)) / 86400000" : "NULL")}
            FROM {from} WHERE {where}
            """;
        // Read through SQLite itself, not ADO.NET: a string per value and three layers per column were most of the pass
        // (a million matches: 1.35 s through a data reader).
        var db = c.Handle!;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(db, sql, out var statement), db);
        using (statement)
        {
            foreach (var (name, value) in parameters)
            {
                var index = raw.sqlite3_bind_parameter_index(statement, name);
                if (index == 0)
                {
                    continue; // a parameter of the page's part only, as a command ignores one its text does not name
                }
                var rc = value switch
                {
                    string text => raw.sqlite3_bind_text(statement, index, text),
                    long number => raw.sqlite3_bind_int64(statement, index, number),
                    _ => throw new ArgumentException($"The search parameter {name} ({value?.GetType().Name ?? "null"}) is neither text nor a number.", nameof(parameters)),
                };
                SqliteException.ThrowExceptionForRC(rc, db);
            }
            // A reader told the database is busy (rare in WAL: a recovery, a checkpoint truncating the log) waits and
            // starts the pass again, as a command of Microsoft.Data.Sqlite retries for up to its 30 s.
            var busyUntil = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
            while (true)
            {
                int step;
                while ((step = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                {
                    matches++;
                    types.Add(statement, 0);
                    users.Add(statement, 1);
                    folders.Add(statement, 2);
                    folders.Add(statement, 3);
                    if (raw.sqlite3_column_type(statement, 4) != raw.SQLITE_NULL)
                    {
                        var day = raw.sqlite3_column_int64(statement, 4);
                        days[day] = days.GetValueOrDefault(day) + 1;
                    }
                }
                if (step == raw.SQLITE_DONE)
                {
                    break;
                }
                if ((step & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED && Stopwatch.GetTimestamp() < busyUntil)
                {
                    raw.sqlite3_reset(statement);
                    (matches, types, users, folders) = (0, new TextCounts(), new TextCounts(), new TextCounts());
                    days.Clear();
                    Thread.Sleep(10);
                    continue;
                }
                SqliteException.ThrowExceptionForRC(step, db);
            }
        }
        var facets = new Dictionary<string, IReadOnlyList<FacetCount>>(StringComparer.Ordinal);
        if (Wants(Facets.EventType))
        {
            facets["event"] = Largest(types.Counts);
        }
        if (Wants(Facets.User))
        {
            facets["user"] = Largest(LowerCased(users.Counts));
        }
        if (Wants(Facets.Folder))
        {
            facets["folder"] = FolderBuckets(c, folders.Counts);
        }
        if (Wants(Facets.Day))
        {
            facets["day"] = DayBuckets(c, days);
        }
        return (matches, facets);

        bool Wants(Facets f) => (wanted & f) != 0;
    }

    /// <summary>
    /// Each day named by SQLite's date(), as the day: terms and after:/before: read them (a day outside its calendar has
    /// no name, and no bucket), newest first.
    /// </summary>
    private static List<FacetCount> DayBuckets(SqliteConnection c, Dictionary<long, long> days)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT value, date(value * 86400, 'unixepoch') FROM json_each($days)";
        cmd.Parameters.AddWithValue("$days", System.Text.Json.JsonSerializer.Serialize(days.Keys));
        var named = new Dictionary<string, long>(StringComparer.Ordinal);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            if (!r.IsDBNull(1))
            {
                var name = r.GetString(1);
                named[name] = named.GetValueOrDefault(name) + days[r.GetInt64(0)];
            }
        }
        return named.OrderByDescending(d => d.Key, StringComparer.Ordinal).Select(d => new FacetCount(d.Key, d.Value)).ToList();
    }

    /// <summary>How often each text value of a column came, looked up from SQLite's UTF-8 without a string per row.</summary>
    private sealed class TextCounts
    {
        private readonly Dictionary<string, StrongBox<long>> _counts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, StrongBox<long>>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private char[] _chars = new char[256];

        public TextCounts() => _lookup = _counts.GetAlternateLookup<ReadOnlySpan<char>>();

        public void Add(sqlite3_stmt statement, int column)
        {
            if (raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL)
            {
                return;
            }
            // A text value's bytes as stored: UTF-8, the encoding of every database SQLite creates unless told otherwise,
            // and the store never tells it otherwise.
            var utf8 = raw.sqlite3_column_blob(statement, column);
            if (_chars.Length < utf8.Length)
            {
                _chars = new char[utf8.Length * 2];
            }
            var text = _chars.AsSpan(0, Encoding.UTF8.GetChars(utf8, _chars));
            if (_lookup.TryGetValue(text, out var count))
            {
                count.Value++;
            }
            else
            {
                _lookup[text] = new StrongBox<long>(1);
            }
        }

        public Dictionary<string, long> Counts => _counts.ToDictionary(p => p.Key, p => p.Value.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// By the folder's id, labelled with its name now: by the name at each event, a renamed folder made a chip per name
    /// it had, and a click on one found the folder's events under every name, or another folder's that has the name now
    /// (a review). A folder Bonnie holds no record of has no label (the handlers record every folder). A folder first
    /// known by name only (its stand-in) counts under the folder it turned out to be, as folder: with that folder's id
    /// finds its events (FolderAliases.OfStandIns).
    /// </summary>
    private static List<FacetCount> FolderBuckets(SqliteConnection c, Dictionary<string, long> counted)
    {
        var byFolder = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (id, folder) in Pairs(c, "SELECT j.value, coalesce(json_extract(f.doc, '$.SameAs'), j.value) FROM json_each($v) j LEFT JOIN folders f ON f.id = j.value",
                     System.Text.Json.JsonSerializer.Serialize(counted.Keys)))
        {
            byFolder[folder!] = byFolder.GetValueOrDefault(folder!) + counted[id];
        }
        var largest = Largest(byFolder);
        var names = Pairs(c, "SELECT j.value, json_extract(f.doc, '$.Name') FROM json_each($v) j LEFT JOIN folders f ON f.id = j.value",
            System.Text.Json.JsonSerializer.Serialize(largest.Select(b => b.Value))).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return largest.Select(b => b with { Label = names.GetValueOrDefault(b.Value) }).ToList();
    }

    /// <summary>
    /// SQLite's lower() folds ASCII letters only: "Jürgen@…" and "JÜRGEN@…" were two buckets, where user: (terms lower-cased
    /// by .NET) finds both under either and Elasticsearch's normalizer makes them one. Folded again here, as user: folds.
    /// </summary>
    private static Dictionary<string, long> LowerCased(Dictionary<string, long> counts)
    {
        var folded = new Dictionary<string, long>(counts.Count, StringComparer.Ordinal);
        foreach (var (value, count) in counts)
        {
            var key = value.ToLowerInvariant();
            folded[key] = folded.GetValueOrDefault(key) + count;
        }
        return folded;
    }

    private static List<FacetCount> Largest(Dictionary<string, long> counts) => counts
        .OrderByDescending(p => p.Value).ThenBy(p => p.Key, CodePointOrder.Instance)
        .Take(EventSearch.FacetBuckets).Select(p => new FacetCount(p.Key, p.Value)).ToList();

    /// <summary>The rows of a two-column query over the JSON array <c>$v</c>: the first column and the second, text or null.</summary>
    private static List<KeyValuePair<string, string?>> Pairs(SqliteConnection c, string sql, string json)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$v", json);
        var list = new List<KeyValuePair<string, string?>>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new(Convert.ToString(r.GetValue(0), CultureInfo.InvariantCulture)!, r.IsDBNull(1) ? null : Convert.ToString(r.GetValue(1), CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <summary>SQLite's order of text (its bytes in UTF-8, so code points), which ordinal order of UTF-16 is not past U+FFFF.</summary>
    private sealed class CodePointOrder : IComparer<string>
    {
        public static readonly CodePointOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = (x ?? "").EnumerateRunes();
            var b = (y ?? "").EnumerateRunes();
            while (true)
            {
                var moreA = a.MoveNext();
                var moreB = b.MoveNext();
                if (!moreA || !moreB)
                {
                    return moreA.CompareTo(moreB);
                }
                var order = a.Current.Value.CompareTo(b.Current.Value);
                if (order != 0)
                {
                    return order;
                }
            }
        }
    }

    private static List<long> Sequences(SqliteConnection c, string sql, IReadOnlyList<KeyValuePair<string, object>> parameters)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        AddParameters(cmd, parameters);
        var list = new List<long>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(r.GetInt64(0));
        }
        return list;
    }

    private static long Scalar(SqliteConnection c, string sql, params (string Name, object Value)[] parameters)
        => Scalar(c, sql, parameters.Select(p => new KeyValuePair<string, object>(p.Name, p.Value)).ToList());

    private static long Scalar(SqliteConnection c, string sql, IReadOnlyList<KeyValuePair<string, object>> parameters)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        AddParameters(cmd, parameters);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void AddParameters(SqliteCommand cmd, IEnumerable<KeyValuePair<string, object>> parameters)
    {
        foreach (var p in parameters)
        {
            cmd.Parameters.AddWithValue(p.Key, p.Value);
        }
    }

    private static List<string> PeopleNamed(SqliteConnection c, string name)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT person_id FROM person_names WHERE name = $n LIMIT 100";
        cmd.Parameters.AddWithValue("$n", name);
        var ids = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            ids.Add(r.GetString(0));
        }
        return ids;
    }
}

/// <summary>A folder term that only one folder ever answered to (see folder_aliases): that folder's id.</summary>
internal sealed record FolderIdNode(string Id) : QueryNode;

/// <summary>A folder term that several folders answer to, resolved by the statement itself.</summary>
internal sealed record FolderAliasNode(string Alias, bool IsPrefix) : QueryNode;
