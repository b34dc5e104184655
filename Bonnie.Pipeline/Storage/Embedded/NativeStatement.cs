using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// A statement prepared once on a connection (the writer's, or the lookups') and bound by position through SQLitePCL directly.
/// The commit path inserts about ten rows per event; through ADO.NET each execution looks every parameter up by
/// name and converts each name to UTF-8, which cost a fifth of the ingest time. Runs inside whatever transaction
/// the connection has open (the commit's), exactly like a command on it.
/// </summary>
internal sealed class NativeStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;

    public NativeStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _stmt);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    /// <summary>Binds <paramref name="value"/> to the 1-based parameter <paramref name="index"/>; null binds NULL.</summary>
    public NativeStatement Bind(int index, string? value)
    {
        if (value is null)
        {
            return BindNull(index);
        }
        if (value.Length == 0)
        {
            // An empty span would reach SQLite as a null pointer, which binds NULL, not ''.
            Check(raw.sqlite3_bind_text(_stmt, index, value));
            return this;
        }
        // Encoded into a reused buffer (SQLite copies bound text at once): SQLitePCL's string overload allocates
        // a new array per value, about forty per event, which kept the garbage collector busy.
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_utf8.Length < max)
        {
            _utf8 = new byte[Math.Max(max, _utf8.Length * 2)];
        }
        var length = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_stmt, index, _utf8.AsSpan(0, length)));
        return this;
    }

    private byte[] _utf8 = new byte[4096];

    public NativeStatement Bind(int index, long value)
    {
        Check(raw.sqlite3_bind_int64(_stmt, index, value));
        return this;
    }

    public NativeStatement Bind(int index, long? value)
        => value is { } v ? Bind(index, v) : BindNull(index);

    public NativeStatement Bind(int index, ReadOnlySpan<byte> blob)
    {
        // As for text: an empty span is a null pointer, which would bind NULL instead of an empty blob.
        Check(blob.IsEmpty ? raw.sqlite3_bind_zeroblob(_stmt, index, 0) : raw.sqlite3_bind_blob(_stmt, index, blob));
        return this;
    }

    public NativeStatement BindNull(int index)
    {
        Check(raw.sqlite3_bind_null(_stmt, index));
        return this;
    }

    /// <summary>Runs an INSERT/UPDATE/DELETE; returns the rows it changed. A constraint failure throws SqliteException (code 19).</summary>
    public int Execute()
    {
        try
        {
            // Primary codes only (19 for any constraint), as Microsoft.Data.Sqlite reports them.
            var rc = raw.sqlite3_step(_stmt) & 0xFF;
            if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
            {
                SqliteException.ThrowExceptionForRC(rc, _db);
            }
            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_stmt);
            raw.sqlite3_clear_bindings(_stmt);
        }
    }

    /// <summary>Steps a query: true while there is a row to read with the Column methods; call <see cref="Reset"/> after.</summary>
    public bool Read()
    {
        var rc = raw.sqlite3_step(_stmt) & 0xFF;
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }
        if (rc != raw.SQLITE_DONE)
        {
            Reset();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
        return false;
    }

    /// <summary>The first column of the first row as an integer, null when there is no row or it is NULL; resets.</summary>
    public long? ReadInt64()
    {
        try
        {
            return Read() && !ColumnIsNull(0) ? ColumnInt64(0) : null;
        }
        finally
        {
            Reset();
        }
    }

    public long ColumnInt64(int index) => raw.sqlite3_column_int64(_stmt, index);

    public bool ColumnIsNull(int index) => raw.sqlite3_column_type(_stmt, index) == raw.SQLITE_NULL;

    public string ColumnText(int index) => Encoding.UTF8.GetString(raw.sqlite3_column_blob(_stmt, index));

    public void Reset()
    {
        raw.sqlite3_reset(_stmt);
        raw.sqlite3_clear_bindings(_stmt);
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc & 0xFF, _db);
        }
    }

    public void Dispose() => _stmt.Dispose();
}

/// <summary>One connection's statements, each prepared on first use and kept for the connection's life.</summary>
internal sealed class NativeStatements(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, NativeStatement> _prepared = new(StringComparer.Ordinal);

    public NativeStatement this[string sql]
    {
        get
        {
            if (!_prepared.TryGetValue(sql, out var statement))
            {
                statement = new NativeStatement(connection, sql);
                _prepared[sql] = statement;
            }
            return statement;
        }
    }

    public void Dispose()
    {
        foreach (var statement in _prepared.Values)
        {
            statement.Dispose();
        }
    }
}
