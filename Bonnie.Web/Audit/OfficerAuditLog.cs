using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bonnie.Web.Hosting;
using Microsoft.Data.Sqlite;

namespace Bonnie.Web.Audit;

/// <summary>
/// The officers' audit log in <c>officers-audit.db</c>. Each record's hash covers its own fields and the hash
/// of the record before it, so changing, removing or reordering any record breaks the chain from there on.
/// Triggers refuse UPDATE and DELETE; the chain catches whoever drops them.
/// </summary>
internal sealed class OfficerAuditLog(DataDirectory directory, TimeProvider time) : IOfficerAudit, IDisposable
{
    internal const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";
    internal const string FileName = "officers-audit.db";

    private readonly SemaphoreSlim _append = new(1, 1);
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = directory.PathOf(FileName),
        Pooling = true,
    }.ToString();
    private volatile bool _created;

    public async Task<OfficerAuditRecord> RecordAsync(OfficerAuditEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentException.ThrowIfNullOrWhiteSpace(entry.Officer);
        ArgumentException.ThrowIfNullOrWhiteSpace(entry.Action);
        var details = CanonicalDetails(entry.Details);

        await _append.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            long lastSequence = 0;
            var previousHash = GenesisHash;
            await using (var last = connection.CreateCommand())
            {
                last.Transaction = transaction;
                last.CommandText = "SELECT seq, hash FROM officer_audit ORDER BY seq DESC LIMIT 1";
                await using var reader = await last.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken))
                {
                    lastSequence = reader.GetInt64(0);
                    previousHash = reader.GetString(1);
                }
            }

            var record = new OfficerAuditRecord(
                lastSequence + 1, time.GetUtcNow(), entry.Officer, entry.Action, entry.Target, details,
                entry.ClientAddress, previousHash, "");
            record = record with { Hash = ComputeHash(record) };

            await using (var insert = connection.CreateCommand())
            {
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT INTO officer_audit(seq, time, officer, action, target, details, client, prev_hash, hash)
                    VALUES ($seq, $time, $officer, $action, $target, $details, $client, $prev, $hash)
                    """;
                insert.Parameters.AddWithValue("$seq", record.Sequence);
                insert.Parameters.AddWithValue("$time", FormatTime(record.Time));
                insert.Parameters.AddWithValue("$officer", record.Officer);
                insert.Parameters.AddWithValue("$action", record.Action);
                insert.Parameters.AddWithValue("$target", (object?)record.Target ?? DBNull.Value);
                insert.Parameters.AddWithValue("$details", record.Details);
                insert.Parameters.AddWithValue("$client", (object?)record.ClientAddress ?? DBNull.Value);
                insert.Parameters.AddWithValue("$prev", record.PreviousHash);
                insert.Parameters.AddWithValue("$hash", record.Hash);
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return record;
        }
        finally
        {
            _append.Release();
        }
    }

    public void Dispose() => _append.Dispose();

    /// <summary>A page of records, newest first, and the total count.</summary>
    public Task<(IReadOnlyList<OfficerAuditRecord> Records, long Total)> ReadPageAsync(
        int skip, int take, CancellationToken cancellationToken = default) => ReadPageAsync(AuditFilter.None, skip, take, cancellationToken);

    /// <summary>
    /// A page of the records <paramref name="filter"/> matches, newest first, and how many it matches (all of them: a
    /// page below a sequence counts the records above it too).
    /// </summary>
    public async Task<(IReadOnlyList<OfficerAuditRecord> Records, long Total)> ReadPageAsync(
        AuditFilter filter, int skip, int take, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await OpenAsync(cancellationToken);
        long total;
        await using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM officer_audit" + Where(count, filter with { BelowSequence = null });
            total = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }
        await using var page = connection.CreateCommand();
        page.CommandText = $"SELECT {Columns} FROM officer_audit{Where(page, filter)} ORDER BY seq DESC LIMIT $take OFFSET $skip";
        // One more than the API's largest page: it asks for one more to know whether there is a next.
        page.Parameters.AddWithValue("$take", Math.Clamp(take, 1, 1001));
        page.Parameters.AddWithValue("$skip", Math.Max(skip, 0));
        var records = new List<OfficerAuditRecord>();
        await using var reader = await page.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(Read(reader));
        }
        return (records, total);
    }

    /// <summary>
    /// Every record <paramref name="filter"/> matches, oldest first, read in one statement (one snapshot of the log: records
    /// appended meanwhile are not half in it, as pages read one after another would be).
    /// </summary>
    public async IAsyncEnumerable<OfficerAuditRecord> ReadAllAsync(AuditFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM officer_audit{Where(command, filter)} ORDER BY seq";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return Read(reader);
        }
    }

    /// <summary>The officers and the actions the log holds, for the filter's choices.</summary>
    public async Task<(IReadOnlyList<string> Officers, IReadOnlyList<string> Actions)> ReadChoicesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var officers = new List<string>();
        foreach (var name in await DistinctAsync(connection, "officer", cancellationToken))
        {
            if (await ActedAsync(connection, name, cancellationToken))
            {
                officers.Add(name);
            }
        }
        return (officers, await DistinctAsync(connection, "action", cancellationToken));
    }

    /// <summary>
    /// The names in the log that start with <paramref name="prefix"/> (<c>api:</c>: the names API keys' calls go under)
    /// and did more than fail to sign in: anyone can type "api:ghost" at the sign-in page.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReadOfficersStartingAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // A range of the officers' index (NOCASE): the prefix and everything after it up to the prefix's next string.
        command.CommandText = "SELECT DISTINCT officer FROM officer_audit WHERE officer COLLATE NOCASE >= $from AND officer COLLATE NOCASE < $to ORDER BY officer";
        command.Parameters.AddWithValue("$from", prefix);
        command.Parameters.AddWithValue("$to", prefix[..^1] + (char)(prefix[^1] + 1));
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }
        var acted = new List<string>();
        foreach (var name in names)
        {
            if (await ActedAsync(connection, name, cancellationToken))
            {
                acted.Add(name);
            }
        }
        return acted;
    }

    /// <summary>
    /// Whether a name did anything but fail to sign in. A failed sign-in is recorded under the name typed, whatever it
    /// was ("admin (approved by legal)"): such names were offered as officers in the filter (a review). Their records stay,
    /// found by the action's filter; only the officers' list leaves them out.
    /// </summary>
    private static async Task<bool> ActedAsync(SqliteConnection connection, string officer, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        // NOCASE, as the officers' index is: each name is one look in it, not a scan of the log.
        command.CommandText = "SELECT 1 FROM officer_audit WHERE officer = $officer COLLATE NOCASE AND action NOT IN ($failed, $locked) LIMIT 1";
        command.Parameters.AddWithValue("$officer", officer);
        command.Parameters.AddWithValue("$failed", OfficerActions.SignInFailed);
        command.Parameters.AddWithValue("$locked", OfficerActions.SignInLockedOut);
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    private static async Task<IReadOnlyList<string>> DistinctAsync(SqliteConnection connection, string column, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        // Served by the column's index; the column name is one of two constants, never input.
        command.CommandText = $"SELECT DISTINCT {column} FROM officer_audit ORDER BY {column}";
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }

    /// <summary>The filter as a WHERE clause of bound parameters (an officer's text is never part of the SQL).</summary>
    private static string Where(SqliteCommand command, AuditFilter filter)
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(filter.Officer))
        {
            var name = filter.Officer.Trim();
            // An ASCII name through the officer index; any other folded by .NET, row by row.
            parts.Add(name.All(char.IsAscii) ? "officer = $officer COLLATE NOCASE" : "bonnie_lower(officer) = $officer");
            command.Parameters.AddWithValue("$officer", name.All(char.IsAscii) ? name : name.ToLowerInvariant());
        }
        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            parts.Add("action = $action");
            command.Parameters.AddWithValue("$action", filter.Action.Trim());
        }
        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            // A substring, any case, of the target or the details (a query, a message key, an outcome): instr, not
            // LIKE, so that '%' and '_' in what an officer types are themselves. The details' values as written, not as
            // stored: records before 2026-12-07 keep JSON's escapes (\u00F6 for ö) in their stored form, which the hash
            // chain covers. The log's own reads are left out of it: their details are the filters asked for, so each
            // search for a text found its own record (a review saw "1 record matches" for text nowhere else).
            parts.Add($"(instr(bonnie_lower(coalesce(target, '')), $text) > 0 OR (action <> '{OfficerActions.AuditRead}' AND instr(bonnie_lower({ReadableDetails}), $text) > 0))");
            command.Parameters.AddWithValue("$text", filter.Text.Trim().ToLowerInvariant());
        }
        if (filter.After is { } after)
        {
            // Times are stored in one fixed-width UTC form, so they compare as text.
            parts.Add("time >= $after");
            command.Parameters.AddWithValue("$after", FormatTime(after));
        }
        if (filter.Before is { } before)
        {
            parts.Add("time < $before");
            command.Parameters.AddWithValue("$before", FormatTime(before));
        }
        if (filter.BelowSequence is { } below)
        {
            parts.Add("seq < $below");
            command.Parameters.AddWithValue("$below", below);
        }
        return parts.Count == 0 ? "" : " WHERE " + string.Join(" AND ", parts);
    }

    /// <summary>Walks the whole chain and names the first record that does not hold.</summary>
    public async Task<AuditChainVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM officer_audit ORDER BY seq";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        long expected = 1;
        var previousHash = GenesisHash;
        while (await reader.ReadAsync(cancellationToken))
        {
            var record = Read(reader);
            if (record.Sequence != expected)
            {
                return AuditChainVerification.Broken(expected - 1, expected,
                    $"Record {expected} is missing: the next record is {record.Sequence}.");
            }
            if (!string.Equals(record.PreviousHash, previousHash, StringComparison.Ordinal))
            {
                return AuditChainVerification.Broken(expected - 1, record.Sequence,
                    $"Record {record.Sequence} does not follow record {record.Sequence - 1}: its previous hash differs.");
            }
            if (!string.Equals(ComputeHash(record), record.Hash, StringComparison.Ordinal))
            {
                return AuditChainVerification.Broken(expected - 1, record.Sequence,
                    $"Record {record.Sequence} was altered: its content no longer matches its hash.");
            }
            previousHash = record.Hash;
            expected++;
        }
        return AuditChainVerification.Intact(expected - 1);
    }

    internal static string ComputeHash(OfficerAuditRecord record)
    {
        // Length-prefixed fields: no choice of officer name or details can make two records hash alike.
        using var buffer = new MemoryStream();
        Write(buffer, record.Sequence.ToString(CultureInfo.InvariantCulture));
        Write(buffer, FormatTime(record.Time));
        Write(buffer, record.Officer);
        Write(buffer, record.Action);
        Write(buffer, record.Target);
        Write(buffer, record.Details);
        Write(buffer, record.ClientAddress);
        Write(buffer, record.PreviousHash);
        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));

        static void Write(MemoryStream buffer, string? value)
        {
            Span<byte> length = stackalloc byte[4];
            if (value is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(length, -1);
                buffer.Write(length);
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            buffer.Write(length);
            buffer.Write(bytes);
        }
    }

    internal static string CanonicalDetails(IReadOnlyDictionary<string, string?>? details)
    {
        var sorted = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in details ?? new Dictionary<string, string?>())
        {
            sorted[key] = value;
        }
        // Letters as they are (ö, not \u00F6), so that the stored record reads as what was done: the default encoder
        // escapes every non-ASCII and HTML-sensitive character. The stored string is what the hash covers; every
        // place that shows it encodes it for where it goes.
        return JsonSerializer.Serialize(sorted, ReadableJson);
    }

    private static readonly JsonSerializerOptions ReadableJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The details' keys and values, unescaped, for matching text (SQLite's JSON functions read the stored JSON).</summary>
    private const string ReadableDetails =
        "CASE WHEN json_valid(details) THEN (SELECT group_concat(key || ': ' || coalesce(value, ''), ' ') FROM json_each(details)) ELSE details END";

    private const string Columns = "seq, time, officer, action, target, details, client, prev_hash, hash";

    private static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static OfficerAuditRecord Read(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        DateTimeOffset.ParseExact(reader.GetString(1), "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
        reader.GetString(2),
        reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetString(5),
        reader.IsDBNull(6) ? null : reader.GetString(6),
        reader.GetString(7),
        reader.GetString(8));

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // SQLite's lower() and NOCASE fold ASCII letters only: "ärger" did not find "ÄRGER" (found by a review).
        connection.CreateFunction("bonnie_lower", (string? value) => value?.ToLowerInvariant(), isDeterministic: true);
        if (!_created)
        {
            await using var schema = connection.CreateCommand();
            schema.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS officer_audit(
                    seq INTEGER PRIMARY KEY,
                    time TEXT NOT NULL,
                    officer TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NULL,
                    details TEXT NOT NULL,
                    client TEXT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS officer_audit_by_officer ON officer_audit(officer COLLATE NOCASE, seq);
                CREATE INDEX IF NOT EXISTS officer_audit_by_action ON officer_audit(action, seq);
                CREATE TRIGGER IF NOT EXISTS officer_audit_no_update BEFORE UPDATE ON officer_audit
                    BEGIN SELECT RAISE(ABORT, 'the officers'' audit log is append-only'); END;
                CREATE TRIGGER IF NOT EXISTS officer_audit_no_delete BEFORE DELETE ON officer_audit
                    BEGIN SELECT RAISE(ABORT, 'the officers'' audit log is append-only'); END;
                """;
            await schema.ExecuteNonQueryAsync(cancellationToken);
            _created = true;
        }
        return connection;
    }
}

/// <summary>
/// Which records of the officers' audit log to read; every part optional, all given parts must hold. <see cref="After"/>
/// is inclusive and <see cref="Before"/> exclusive, as <c>after:</c> and <c>before:</c> in the search.
/// </summary>
/// <param name="Officer">The officer's name, any case.</param>
/// <param name="Action">One action (<see cref="OfficerActions"/>), exactly.</param>
/// <param name="Text">Found, any case, in the record's target or details.</param>
public sealed record AuditFilter(string? Officer = null, string? Action = null, string? Text = null, DateTimeOffset? After = null, DateTimeOffset? Before = null)
{
    /// <summary>Records before this sequence only: the API's pages, which records appended meanwhile do not shift.</summary>
    public long? BelowSequence { get; init; }

    public static AuditFilter None { get; } = new();

    public bool IsEmpty => string.IsNullOrWhiteSpace(Officer) && string.IsNullOrWhiteSpace(Action) && string.IsNullOrWhiteSpace(Text)
        && After is null && Before is null;
}

/// <summary>The outcome of walking the chain.</summary>
/// <param name="IsIntact">Every record holds.</param>
/// <param name="RecordsVerified">Records that hold, from the first on.</param>
/// <param name="FirstBrokenSequence">The first record that does not hold, or null.</param>
/// <param name="Message">A sentence an officer can read.</param>
public sealed record AuditChainVerification(bool IsIntact, long RecordsVerified, long? FirstBrokenSequence, string Message)
{
    internal static AuditChainVerification Intact(long count) =>
        new(true, count, null, string.Create(CultureInfo.InvariantCulture, $"The chain is intact: {count:N0} {(count == 1 ? "record" : "records")} verified."));

    internal static AuditChainVerification Broken(long verified, long sequence, string reason) =>
        new(false, verified, sequence, reason);
}
