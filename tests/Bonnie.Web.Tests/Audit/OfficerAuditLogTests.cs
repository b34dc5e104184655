using Bonnie.Web.Audit;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Bonnie.Web.Tests.Audit;

public sealed class OfficerAuditLogTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly OfficerAuditLog _log;

    public OfficerAuditLogTests() => _log = new OfficerAuditLog(TestData.DataDirectoryIn(_directory.Path), _time);

    public void Dispose()
    {
        _log.Dispose();
        _directory.Dispose();
    }

    private async Task RecordFiveAsync()
    {
        for (var i = 1; i <= 5; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.Search, $"from:bob #{i}",
                new Dictionary<string, string?> { ["hits"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "192.0.2.7"));
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, OfficerAuditLog.FileName)};Pooling=false");
        connection.Open();
        return connection;
    }

    [Fact]
    public async Task RecordAsync_Twice_ChainsTheSecondToTheFirst()
    {
        var first = await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.SignIn, ClientAddress: "192.0.2.7"));
        var second = await _log.RecordAsync(new OfficerAuditEntry("alice", OfficerActions.SignOut));

        Assert.Equal(1, first.Sequence);
        Assert.Equal(OfficerAuditLog.GenesisHash, first.PreviousHash);
        Assert.Equal(2, second.Sequence);
        Assert.Equal(first.Hash, second.PreviousHash);
        Assert.Matches("^[0-9a-f]{64}$", second.Hash);
    }

    [Fact]
    public async Task ReadChoicesAsync_NamesOnlyTypedAtFailedSignIns_AreNotOfferedAsOfficers_TheirRecordsStay()
    {
        // A failed sign-in is recorded under whatever was typed: "admin (approved by legal)" was offered as an officer.
        await _log.RecordAsync(new OfficerAuditEntry("admin (approved by legal)", OfficerActions.SignInFailed));
        await _log.RecordAsync(new OfficerAuditEntry("sprayed", OfficerActions.SignInLockedOut));
        await _log.RecordAsync(new OfficerAuditEntry("ann", OfficerActions.SignInFailed));
        await _log.RecordAsync(new OfficerAuditEntry("ann", OfficerActions.SignIn));
        await _log.RecordAsync(new OfficerAuditEntry("api:siem", OfficerActions.Search, "event:Login"));

        var (officers, actions) = await _log.ReadChoicesAsync();

        Assert.Equal(["ann", "api:siem"], officers);
        Assert.Contains(OfficerActions.SignInFailed, actions);
        Assert.Single((await _log.ReadPageAsync(new AuditFilter(Officer: "admin (approved by legal)"), 0, 10)).Records);
    }

    [Fact]
    public async Task VerifyAsync_Untouched_IsIntact()
    {
        await RecordFiveAsync();

        var result = await _log.VerifyAsync();

        Assert.True(result.IsIntact, result.Message);
        Assert.Equal(5, result.RecordsVerified);
        Assert.Null(result.FirstBrokenSequence);
    }

    [Fact]
    public async Task VerifyAsync_RowChangedWithSql_NamesThatRecord()
    {
        await RecordFiveAsync();
        using (var connection = Open())
        using (var tamper = connection.CreateCommand())
        {
            // Whoever can write the file can drop the guard too; the chain is what catches them.
            tamper.CommandText = """
                DROP TRIGGER officer_audit_no_update;
                UPDATE officer_audit SET target = 'from:nobody' WHERE seq = 3;
                """;
            tamper.ExecuteNonQuery();
        }

        var result = await _log.VerifyAsync();

        Assert.False(result.IsIntact);
        Assert.Equal(3, result.FirstBrokenSequence);
        Assert.Equal(2, result.RecordsVerified);
        Assert.Contains("Record 3 was altered", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyAsync_RowDeletedWithSql_NamesTheGap()
    {
        await RecordFiveAsync();
        using (var connection = Open())
        using (var tamper = connection.CreateCommand())
        {
            tamper.CommandText = "DROP TRIGGER officer_audit_no_delete; DELETE FROM officer_audit WHERE seq = 2;";
            tamper.ExecuteNonQuery();
        }

        var result = await _log.VerifyAsync();

        Assert.False(result.IsIntact);
        Assert.Equal(2, result.FirstBrokenSequence);
        Assert.Contains("Record 2 is missing", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_WhileTheGuardIsInPlace_IsRefused()
    {
        await RecordFiveAsync();
        using var connection = Open();
        using var tamper = connection.CreateCommand();
        tamper.CommandText = "UPDATE officer_audit SET officer = 'mallory' WHERE seq = 1";

        var error = Assert.Throws<SqliteException>(() => tamper.ExecuteNonQuery());

        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadPageAsync_SecondPage_ReturnsOlderRecordsNewestFirst()
    {
        await RecordFiveAsync();

        var (records, total) = await _log.ReadPageAsync(2, 2);

        Assert.Equal(5, total);
        Assert.Equal([3L, 2L], records.Select(r => r.Sequence));
        Assert.Equal("{\"hits\":\"3\"}", records[0].Details);
    }
}
