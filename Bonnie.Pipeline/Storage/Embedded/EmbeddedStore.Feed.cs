using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore
{
    /// <summary>Stored events one feed call looks at, at most: a rare match in a large store is a few calls, not one long one.</summary>
    internal const int FeedScanLimit = 10_000;

    // Every column a page or a condition reads, and not the notification itself: the window below passes each row it
    // scans on to the filter, and the notification is most of a row's bytes.
    private const string FeedColumns =
        "seq, id, type, name, ts, received, user, service, session, ip, folder_id, folder, folder_path, old_folder_id, old_folder, uids, mids, keys, "
        + "sender, recipients, flags, subject, size, payload_status, payload_sha256, raw_sha256, identity, identity_status, person_id";

    /// <summary>
    /// The events after a position in the order they were stored (<see cref="Arrival"/>), filtered by the query. The
    /// numbers are given inside the writing transaction, under SQLite's one write lock, and a reader sees whole
    /// transactions only: once a position is read past, nothing is stored behind it.
    /// </summary>
    public async Task<FeedPage> ReadFeedAsync(FeedRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var after = request.After is null ? long.MinValue : FeedPosition.Decode(request.After);
        var limit = Math.Clamp(request.Limit, 1, EventSearch.MaxLimit);
        await using var c = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // One read transaction: the window's end and the page come from the same state of the store.
        await using var tx = c.BeginTransaction(deferred: true);
        var translator = new SqlQueryTranslator();
        var condition = translator.Translate(ResolveFolders(c, request.Query.Root));
        var window = $"SELECT {FeedColumns}, {Arrival} AS arrival_at FROM events WHERE {Arrival} > $after ORDER BY {Arrival} LIMIT {FeedScanLimit}";

        long? windowEnd;
        long scanned;
        await using (var end = c.CreateCommand())
        {
            end.Transaction = tx;
            // From the index alone: the window's positions, not its rows.
            end.CommandText = $"SELECT max(a), count(*) FROM (SELECT {Arrival} AS a FROM events WHERE {Arrival} > $after ORDER BY {Arrival} LIMIT {FeedScanLimit})";
            end.Parameters.AddWithValue("$after", after);
            await using var r = await end.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await r.ReadAsync(cancellationToken).ConfigureAwait(false);
            windowEnd = r.IsDBNull(0) ? null : r.GetInt64(0);
            scanned = r.GetInt64(1);
        }
        if (request.After is not null && scanned == 0)
        {
            await using var last = c.CreateCommand();
            last.Transaction = tx;
            last.CommandText = $"SELECT max({Arrival}) FROM events";
            // Nothing after it, and beyond the last event stored: a position of another store, or of this one before it
            // was reset or restored from a backup. Followed, it would wait there for ever, saying it is up to date while
            // new events pass it by.
            if (after > (await last.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as long? ?? long.MinValue))
            {
                throw new QuerySyntaxException(
                    "The feed position is past the last event this store holds: it comes from another store, or from this one before it was reset or restored. Start again without it.",
                    0, "a position from a previous call to this store");
            }
        }

        var items = new List<StoredEvent>();
        var positions = new List<long>();
        await using (var page = c.CreateCommand())
        {
            page.Transaction = tx;
            page.CommandText = $"SELECT {EventColumns}, e.arrival_at FROM ({window}) e WHERE {condition} ORDER BY e.arrival_at LIMIT {limit + 1}";
            page.Parameters.AddWithValue("$after", after);
            AddParameters(page, translator.Parameters);
            await using var r = await page.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(ReadEvent(r));
                positions.Add(r.GetInt64(r.FieldCount - 1));
            }
        }
        long next;
        bool caughtUp;
        if (items.Count > limit)
        {
            items.RemoveAt(limit);
            next = positions[limit - 1];
            caughtUp = false;
        }
        else
        {
            // Every match of the window is here: go on after the window, which ended at the last event stored when it
            // was not full.
            next = windowEnd ?? after;
            caughtUp = scanned < FeedScanLimit;
        }
        return new FeedPage(items, FeedPosition.Encode(next), caughtUp);
    }
}

/// <summary>Opaque positions in the order events were stored: a <see cref="Cursor"/> under a tag of its own.</summary>
internal static class FeedPosition
{
    public static string Encode(long position) => Cursor.Encode("f1", position);

    public static long Decode(string position) =>
        Cursor.Decode("f1", position, "The feed position is not one this server gave out; start again without it.", "a position from a previous call");
}
