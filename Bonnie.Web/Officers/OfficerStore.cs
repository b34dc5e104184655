using System.Globalization;
using Bonnie.Web.Hosting;
using Microsoft.Data.Sqlite;

namespace Bonnie.Web.Officers;

/// <summary>A local officer account as stored.</summary>
public sealed record OfficerAccount(
    string UserName,
    string Role,
    string PasswordHash,
    bool MustChangePassword,
    int FailedAttempts,
    DateTimeOffset? LockedUntil,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt = null)
{
    /// <summary>An officer who left or must not act: cannot sign in, and a session of theirs ends at its next request.</summary>
    public bool IsDisabled => DisabledAt is not null;
}

/// <summary>Local officer accounts in <c>officers.db</c> in the data directory.</summary>
internal sealed class OfficerStore(DataDirectory directory)
{
    internal const string FileName = "officers.db";

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = directory.PathOf(FileName),
        Pooling = true,
    }.ToString();
    private volatile bool _created;

    public async Task<OfficerAccount?> FindAsync(string userName, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM officers WHERE user_name = $name";
        command.Parameters.AddWithValue("$name", userName);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<OfficerAccount>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM officers ORDER BY user_name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var officers = new List<OfficerAccount>();
        while (await reader.ReadAsync(cancellationToken))
        {
            officers.Add(Read(reader));
        }
        return officers;
    }

    /// <summary>Adds an account; false when the user name is taken (case-insensitively).</summary>
    public async Task<bool> TryCreateAsync(OfficerAccount officer, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO officers(user_name, role, password_hash, must_change_password, failed_attempts, locked_until, created_at)
            VALUES ($name, $role, $hash, $must, 0, NULL, $created)
            ON CONFLICT(user_name) DO NOTHING
            """;
        command.Parameters.AddWithValue("$name", officer.UserName);
        command.Parameters.AddWithValue("$role", officer.Role);
        command.Parameters.AddWithValue("$hash", officer.PasswordHash);
        command.Parameters.AddWithValue("$must", officer.MustChangePassword ? 1 : 0);
        command.Parameters.AddWithValue("$created", Format(officer.CreatedAt));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public Task<bool> SetRoleAsync(string userName, string role, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE officers SET role = $role WHERE user_name = $name", cancellationToken,
            ("$name", userName), ("$role", role));

    public Task<bool> SetPasswordAsync(string userName, string passwordHash, bool mustChange, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE officers SET password_hash = $hash, must_change_password = $must WHERE user_name = $name",
            cancellationToken, ("$name", userName), ("$hash", passwordHash), ("$must", mustChange ? 1 : 0));

    public Task<bool> ClearFailuresAsync(string userName, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE officers SET failed_attempts = 0, locked_until = NULL WHERE user_name = $name",
            cancellationToken, ("$name", userName));

    /// <summary>Counts a failed sign-in; returns when the account is locked until if this attempt locked it.</summary>
    public async Task<DateTimeOffset?> RecordFailureAsync(
        string userName, DateTimeOffset now, int maxAttempts, TimeSpan lockout, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        // One statement, so two concurrent guesses cannot both slip under the limit.
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE officers SET
                failed_attempts = CASE WHEN failed_attempts + 1 >= $max THEN 0 ELSE failed_attempts + 1 END,
                locked_until = CASE WHEN failed_attempts + 1 >= $max THEN $until ELSE locked_until END
            WHERE user_name = $name
            RETURNING locked_until
            """;
        command.Parameters.AddWithValue("$name", userName);
        command.Parameters.AddWithValue("$max", maxAttempts);
        var until = now + lockout;
        command.Parameters.AddWithValue("$until", Format(until));
        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is string stored && stored == Format(until) ? until : null;
    }

    /// <summary>Disables the account at <paramref name="at"/>, or (null) enables it again; false when there is no such officer.</summary>
    public Task<bool> SetDisabledAsync(string userName, DateTimeOffset? at, CancellationToken cancellationToken = default) =>
        ExecuteAsync("UPDATE officers SET disabled_at = $at WHERE user_name = $name", cancellationToken,
            ("$at", at is { } t ? Format(t) : DBNull.Value), ("$name", userName));

    /// <summary>Administrators who can act: a disabled one does not count.</summary>
    public async Task<long> CountAdministratorsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM officers WHERE role = 'Administrator' AND disabled_at IS NULL";
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    private async Task<bool> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private const string Columns = "user_name, role, password_hash, must_change_password, failed_attempts, locked_until, created_at, disabled_at";

    private static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string time) =>
        DateTimeOffset.ParseExact(time, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static OfficerAccount Read(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3) != 0,
        reader.GetInt32(4),
        reader.IsDBNull(5) ? null : Parse(reader.GetString(5)),
        Parse(reader.GetString(6)),
        reader.IsDBNull(7) ? null : Parse(reader.GetString(7)));

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        if (!_created)
        {
            await using var schema = connection.CreateCommand();
            schema.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS officers(
                    user_name TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
                    role TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    must_change_password INTEGER NOT NULL,
                    failed_attempts INTEGER NOT NULL DEFAULT 0,
                    locked_until TEXT NULL,
                    created_at TEXT NOT NULL);
                """;
            await schema.ExecuteNonQueryAsync(cancellationToken);
            // Added 2026-12: an officers.db made before has no such column yet.
            await using var column = connection.CreateCommand();
            column.CommandText = "SELECT count(*) FROM pragma_table_info('officers') WHERE name = 'disabled_at'";
            if (Convert.ToInt64(await column.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
            {
                await using var add = connection.CreateCommand();
                add.CommandText = "ALTER TABLE officers ADD COLUMN disabled_at TEXT NULL";
                try
                {
                    await add.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (SqliteException ex) when (ex.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
                {
                    // Another connection opened at the same moment added it first.
                }
            }
            _created = true;
        }
        return connection;
    }
}
