using Bonnie.Web.Hosting;
using Microsoft.Data.Sqlite;

namespace Bonnie.Web.Search;

/// <summary>A query an officer kept under a name; each officer sees only their own.</summary>
internal sealed record SavedSearch(string Name, string Query, DateTimeOffset SavedAt);

/// <summary>Officers' saved searches in <c>saved-searches.db</c> in the data directory.</summary>
internal sealed class SavedSearches(DataDirectory directory, TimeProvider time)
{
    internal const string FileName = "saved-searches.db";
    public const int MaxNameLength = 100;

    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = directory.PathOf(FileName),
        Pooling = true,
    }.ToString();
    private volatile bool _created;

    public async Task<IReadOnlyList<SavedSearch>> ListAsync(string officer, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, query, saved_at FROM saved_search WHERE officer = $officer ORDER BY name COLLATE NOCASE";
        command.Parameters.AddWithValue("$officer", officer);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<SavedSearch>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new SavedSearch(reader.GetString(0), reader.GetString(1),
                DateTimeOffset.Parse(reader.GetString(2), System.Globalization.CultureInfo.InvariantCulture)));
        }
        return result;
    }

    /// <summary>Saves <paramref name="query"/> as <paramref name="name"/>, replacing a search of that name.</summary>
    public async Task SaveAsync(string officer, string name, string query, CancellationToken cancellationToken = default)
    {
        name = name.Trim();
        if (name.Length is 0 or > MaxNameLength)
        {
            throw new ArgumentException($"A saved search needs a name of 1 to {MaxNameLength} characters.", nameof(name));
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO saved_search(officer, name, query, saved_at) VALUES ($officer, $name, $query, $at)
            ON CONFLICT(officer, name) DO UPDATE SET query = excluded.query, saved_at = excluded.saved_at
            """;
        command.Parameters.AddWithValue("$officer", officer);
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$query", query);
        command.Parameters.AddWithValue("$at", time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> DeleteAsync(string officer, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM saved_search WHERE officer = $officer AND name = $name";
        command.Parameters.AddWithValue("$officer", officer);
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        if (!_created)
        {
            await using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE IF NOT EXISTS saved_search(
                    officer  TEXT NOT NULL,
                    name     TEXT NOT NULL COLLATE NOCASE,
                    query    TEXT NOT NULL,
                    saved_at TEXT NOT NULL,
                    PRIMARY KEY(officer, name));
                """;
            await create.ExecuteNonQueryAsync(cancellationToken);
            _created = true;
        }
        return connection;
    }
}
