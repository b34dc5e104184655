using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Bonnie.Web.Audit;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Api;

/// <summary>
/// <c>GET /api/audit</c> over HTTP with a real host: who did what, filtered, as JSON or CSV, for administrators only;
/// reading the log is itself recorded.
/// </summary>
public sealed class AuditApiTests : IAsyncLifetime
{
    private const string AdministratorKey = "administrator-key-a0d1t0a0d1t0a0d1";
    private const string InvestigatorKey = "investigator-key-a0d1t0a0d1t0a0d1";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "bonnie-audit-api-tests", Guid.NewGuid().ToString("N"));
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;
    private OfficerAuditLog _log = null!;

    public async Task InitializeAsync()
    {
        _factory = ApiHost.Start(_data, [("chief", AdministratorKey, "Administrator"), ("ivy", InvestigatorKey, "Investigator")]);
        _client = _factory.CreateClient();
        _client.Timeout = TimeSpan.FromSeconds(30);
        _log = _factory.Services.GetRequiredService<OfficerAuditLog>();
        await _log.RecordAsync(new OfficerAuditEntry("ivy", OfficerActions.Search, "user:carol@example.org", ClientAddress: "192.0.2.7"));
        await _log.RecordAsync(new OfficerAuditEntry("ivy", OfficerActions.Export, "user:carol@example.org", ClientAddress: "192.0.2.7"));
        // A target someone typed, that a spreadsheet would run as a formula.
        await _log.RecordAsync(new OfficerAuditEntry("ivy", OfficerActions.Search, "=HYPERLINK(\"http://x.example/\",\"carol\")", ClientAddress: "192.0.2.7"));
        await _log.RecordAsync(new OfficerAuditEntry("sam", OfficerActions.Search, "user:dave@example.org", ClientAddress: "192.0.2.9"));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task Get_OfficerActionAndText_OnlyTheMatchingRecordsNewestFirst_AndTheReadRecorded()
    {
        using var response = await GetAsync("/api/audit?officer=IVY&action=search&text=CAROL", AdministratorKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, body.RootElement.GetProperty("total").GetInt64());
        Assert.Equal(["=HYPERLINK(\"http://x.example/\",\"carol\")", "user:carol@example.org"],
            body.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("target").GetString()));
        // Each record as stored, with its hashes: a reader can check the chain from the answer.
        var first = body.RootElement.GetProperty("items")[0];
        Assert.Equal(64, first.GetProperty("hash").GetString()!.Length);
        var read = Assert.Single((await _log.ReadPageAsync(new AuditFilter(Action: OfficerActions.AuditRead), 0, 10)).Records);
        Assert.Equal("api:chief", read.Officer);
        Assert.Contains("\"text\":\"CAROL\"", read.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Csv_EveryMatchingRecordOldestFirst_AFormulaIsNotAFormula()
    {
        using var response = await GetAsync("/api/audit?officer=ivy&format=csv", AdministratorKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("bonnie-officers-audit-", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName,
            StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("sequence,time,officer,action,target,details,client,previous_hash,hash", lines[0]);
        Assert.Equal(4, lines.Length);
        var ivysFirst = (await _log.ReadPageAsync(new AuditFilter(Officer: "ivy"), 0, 10)).Records[^1];
        Assert.StartsWith($"{ivysFirst.Sequence},\"{ivysFirst.Time.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'}\",\"ivy\",\"search\",", lines[1], StringComparison.Ordinal);
        Assert.Contains(",\"ivy\",\"export\",", lines[2], StringComparison.Ordinal);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://x.example/\"\",\"\"carol\"\")\",", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_TextInAnyCase_LettersBeyondAsciiToo()
    {
        await _log.RecordAsync(new OfficerAuditEntry("ivy", OfficerActions.Restore, "user/JÖRG/ÄRGER@example.org"));

        using var lower = await GetAsync("/api/audit?text=" + Uri.EscapeDataString("jörg/ärger"), AdministratorKey);
        using var officer = await GetAsync("/api/audit?officer=IVY&text=" + Uri.EscapeDataString("ÄRGER"), AdministratorKey);

        Assert.Equal(1, JsonDocument.Parse(await lower.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt64());
        Assert.Equal(1, JsonDocument.Parse(await officer.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Get_PagedWithNext_EveryRecordOnce_ThoughEachReadAddsItsOwn()
    {
        // Each read appends its audit-read record before it reads: pages by offset shifted by one every call.
        var seen = new List<long>();
        string? cursor = null;
        for (var call = 0; call < 20; call++)
        {
            using var response = await GetAsync("/api/audit?limit=2" + (cursor is null ? "" : "&cursor=" + cursor), AdministratorKey);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            seen.AddRange(body.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("sequence").GetInt64()));
            if (body.RootElement.GetProperty("next").ValueKind == JsonValueKind.Null)
            {
                break;
            }
            cursor = body.RootElement.GetProperty("next").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        // Every record from the newest the first page saw down to the first, each once: none skipped, none repeated.
        Assert.Equal(Enumerable.Range(1, (int)seen[0]).Reverse().Select(i => (long)i), seen);
    }

    [Fact]
    public async Task Get_TimeRange_AfterInclusiveBeforeExclusive()
    {
        var all = (await _log.ReadPageAsync(0, 10)).Records;
        var export = all.Single(r => r.Action == OfficerActions.Export);
        var second = export.Time;

        using var from = await GetAsync($"/api/audit?after={Uri.EscapeDataString(second.ToString("O"))}&action=search", AdministratorKey);
        using var before = await GetAsync($"/api/audit?before={Uri.EscapeDataString(second.ToString("O"))}", AdministratorKey);
        using var future = await GetAsync("/api/audit?after=2999-01-01", AdministratorKey);

        Assert.Equal(2, JsonDocument.Parse(await from.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt64());
        Assert.Equal(all.Count(r => r.Sequence < export.Sequence),
            JsonDocument.Parse(await before.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt64());
        Assert.Equal(0, JsonDocument.Parse(await future.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Get_TextFoundNowhereElse_NoRecord_NotEvenTheReadsThatAskedForIt()
    {
        // Each read's details hold the filter it asked for: a search for a text found its own record (found by a review).
        using var first = await GetAsync("/api/audit?text=zzqqq", AdministratorKey);
        using var second = await GetAsync("/api/audit?text=zzqqq&format=csv", AdministratorKey);

        Assert.Equal(0, JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt64());
        Assert.Single((await second.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Get_TextWithLettersBeyondAscii_FoundInDetailsStoredEitherWay()
    {
        // Records before 2026-12-07 kept JSON's escapes in their stored details (\u00F6 for ö); records since keep letters.
        await _log.RecordAsync(new OfficerAuditEntry("ivy", OfficerActions.Restore, "job-1",
            new Dictionary<string, string?> { ["targetFolder"] = "user/björk/Entwürfe@example.org" }));
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, OfficerAuditLog.FileName)};Pooling=false"))
        {
            connection.Open();
            using var old = connection.CreateCommand();
            old.CommandText = """
                INSERT INTO officer_audit(seq, time, officer, action, target, details, client, prev_hash, hash)
                VALUES (1000, '2026-12-01T00:00:00.0000000Z', 'ivy', 'restore', 'job-0', '{"targetFolder":"user/bj\u00F6rk/Alt@example.org"}', NULL, 'x', 'y')
                """;
            old.ExecuteNonQuery();
        }

        using var response = await GetAsync("/api/audit?text=" + Uri.EscapeDataString("björk"), AdministratorKey);

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        // Newest first: the old-form row was written with a higher sequence.
        Assert.Equal(["job-0", "job-1"], body.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("target").GetString()));
        // Stored as written from now on.
        Assert.Contains("Entwürfe", body.RootElement.GetProperty("items")[1].GetProperty("details").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/audit?after=yesterday", "after must be a day")]
    [InlineData("/api/audit?format=xlsx", "format must be json or csv")]
    [InlineData("/api/audit?officer=a&officer=b", "officer is given 2 times")]
    [InlineData("/api/audit?cursor=-1", "cursor must be the next of a previous page")]
    public async Task Get_BadParameter_400NamingIt_NothingRead(string path, string error)
    {
        using var response = await GetAsync(path, AdministratorKey);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(error, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(),
            StringComparison.Ordinal);
        Assert.Empty((await _log.ReadPageAsync(new AuditFilter(Action: OfficerActions.AuditRead), 0, 10)).Records);
    }

    [Fact]
    public async Task Get_Investigator_Forbidden()
    {
        using var response = await GetAsync("/api/audit?format=csv", InvestigatorKey);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("carol", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
