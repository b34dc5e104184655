using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Api;

/// <summary>The JSON API end to end: the real host on a real port, API keys from configuration, a store in a temporary directory.</summary>
public sealed class ApiTests : IAsyncLifetime
{
    private const string AuditorKey = "auditor-key-0123456789abcdef";
    private const string AdminKey = "admin-key-0123456789abcdefgh";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bonnie-api-tests", Guid.NewGuid().ToString("N"));
    private static readonly string[] Session =
        ["MailboxCreate", "MessageNew", "MailboxSubscribe", "MessageAppend", "MessageRead", "FlagsSet", "vnd.cmu.MessageCopy", "AclChange", "Login", "Logout"];
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    private static string Fixture(string name)
        => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", name + ".json")).TrimEnd('\n');

    private static string JobId(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

    public async Task InitializeAsync()
    {
        _factory = ApiHost.Start(_data, [("auditor", AuditorKey, "Auditor"), ("admin", AdminKey, "Administrator")]);
        _client = _factory.CreateClient();
        _client.Timeout = TimeSpan.FromSeconds(30);

        await using var scope = _factory.Services.CreateAsyncScope();
        var processor = scope.ServiceProvider.GetRequiredService<StoreJobProcessor>();
        var jobs = Session
            .Select(n => Encoding.UTF8.GetBytes(Fixture(n)))
            .Append("not json at all"u8.ToArray())
            .Select(b => new Job(Convert.ToHexStringLower(SHA256.HashData(b)), b, 1, DateTimeOffset.UtcNow))
            .ToList();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var outcomes = await processor.ProcessBatchAsync(jobs, timeout.Token);
        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
    }

    /// <summary>Processes notifications one after another, each in a batch of its own, as the worker would; each must be stored.</summary>
    private async Task ProcessAsync(params string[] notifications)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var processor = scope.ServiceProvider.GetRequiredService<StoreJobProcessor>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var json in notifications)
        {
            var outcome = Assert.Single(await processor.ProcessBatchAsync([new Job(JobId(json), Encoding.UTF8.GetBytes(json), 1, DateTimeOffset.UtcNow)], timeout.Token));
            Assert.IsType<JobOutcome.Done>(outcome);
        }
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path, string? key = AuditorKey) => SendAsync(HttpMethod.Get, path, key);

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? key = AuditorKey)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Theory]
    // An answer, an error and a refusal alike: each may name what was asked for.
    [InlineData("/api/events?q=user:cyrus", AuditorKey)]
    [InlineData("/api/events/nosuchevent", AuditorKey)]
    [InlineData("/api/events", null)]
    public async Task Get_AnyAnswer_IsNotToBeCached(string path, string? key)
    {
        // Evidence (subjects, addresses, raw notifications): no browser or proxy may keep a copy (a review found no
        // Cache-Control on the API's answers).
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var response = await _client.SendAsync(request);

        Assert.True(response.Headers.CacheControl?.NoStore, $"{path}: Cache-Control was '{response.Headers.CacheControl}'");
    }

    [Theory]
    [InlineData("/api/events")]
    [InlineData("/api/events/abc")]
    [InlineData("/api/messages/M743974037cbef97becd11ce5/history")]
    [InlineData("/api/folders/sufr9a0wrxwpaaifzy6ge6cu/history")]
    [InlineData("/api/users/cyrus/sessions")]
    [InlineData("/api/quarantine")]
    [InlineData("/api/people/P-1")]
    public async Task Get_WithoutKeyOrWithWrongKey_Unauthorized(string path)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(path, key: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(path, key: "wrong-key-0123456789abcdefgh")).Status);
    }

    [Theory]
    [InlineData("/api/events", null, "An API key is required: send it as Authorization: Bearer <key>.")]
    [InlineData("/api/people/P-1", null, "An API key is required: send it as Authorization: Bearer <key>.")]
    [InlineData("/api/events", "wrong-key-0123456789abcdefgh", "The API key is not valid.")]
    [InlineData("/api/quarantine", "wrong-key-0123456789abcdefgh", "The API key is not valid.")]
    [InlineData("/api/nosuchendpoint", "wrong-key-0123456789abcdefgh", "The API key is not valid.")]
    public async Task Get_WithoutKeyOrWithWrongKey_UnauthorizedWithAnErrorSayingWhichAndNeverTheKey(string path, string? key, string error)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(error, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-key", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/events/nosuchevent", "No event with id 'nosuchevent'.")]
    [InlineData("/api/messages/Mnosuchmessage/history", "No message with id 'Mnosuchmessage'.")]
    [InlineData("/api/folders/nosuchfolder/history", "No folder with id 'nosuchfolder'.")]
    [InlineData("/api/people/P-404", "No person with id 'P-404'.")]
    [InlineData("/api/nosuchendpoint", "There is no API endpoint GET '/api/nosuchendpoint'.")]
    public async Task Get_UnknownItem_NotFoundWithAnErrorNamingIt(string path, string error)
    {
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal(error, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Delete_OnASearchEndpoint_MethodNotAllowedWithAnError()
    {
        var (status, body) = await SendAsync(HttpMethod.Delete, "/api/events");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("DELETE is not allowed on '/api/events'.", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task PostBackfill_WithoutImapConfigured_ServiceUnavailableWithAnErrorNamingTheSetting()
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/backfill", AdminKey);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("set Bonnie:Payloads:Imap:Host", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetBackfill_AuditorKey_ForbiddenWithAnErrorNamingTheRolesItTakes()
    {
        var (status, body) = await GetAsync("/api/backfill");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("api:auditor has the role Auditor; this takes the role Administrator.", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task GetFeed_FollowedAsItGrows_ALateEventWithAnOlderTimeComesNext_AnEmptyPollIsNotAudited()
    {
        var (status, first) = await GetAsync("/api/feed?q=&limit=1000");
        Assert.Equal(HttpStatusCode.OK, status);
        var stored = first.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).ToList();
        Assert.Equal(Session.Length, stored.Count);
        Assert.True(first.GetProperty("caughtUp").GetBoolean());
        var next = first.GetProperty("next").GetString()!;
        var readsBefore = (await AuditAsync()).Count(r => r.Action == OfficerActions.Search);
        var (_, empty) = await GetAsync("/api/feed?after=" + Uri.EscapeDataString(next));
        Assert.Empty(empty.GetProperty("items").EnumerateArray());

        // A notification from before all the others (a dealer's spool resent after an outage) is stored now.
        var late = Fixture("Logout").Replace("2026-11-29T11:19:48.040Z", "2001-01-01T00:00:00.000Z", StringComparison.Ordinal);
        Assert.Contains("2001-01-01", late, StringComparison.Ordinal);
        await ProcessAsync(late);
        var (_, grown) = await GetAsync("/api/feed?after=" + Uri.EscapeDataString(empty.GetProperty("next").GetString()!));

        var item = Assert.Single(grown.GetProperty("items").EnumerateArray());
        Assert.Equal(JobId(late), item.GetProperty("id").GetString());
        Assert.StartsWith("2001-", item.GetProperty("timestamp").GetString(), StringComparison.Ordinal);
        // The empty poll was not recorded; the one that returned the late event was.
        Assert.Equal(readsBefore + 1, (await AuditAsync()).Count(r => r.Action == OfficerActions.Search));
        var (forged, error) = await GetAsync("/api/feed?after=nonsense");
        Assert.Equal(HttpStatusCode.BadRequest, forged);
        Assert.Contains("position", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        // The feed has one order: a sort: would be silently ignored, so it is refused where it stands (found by a review).
        var (sorted, sortError) = await GetAsync("/api/feed?q=" + Uri.EscapeDataString("event:Login sort:newest"));
        Assert.Equal(HttpStatusCode.BadRequest, sorted);
        Assert.Equal(12, sortError.GetProperty("position").GetInt32());
        Assert.Contains("does not apply here", sortError.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<OfficerAuditRecord>> AuditAsync()
        => (await _factory.Services.GetRequiredService<OfficerAuditLog>().ReadPageAsync(0, 1000)).Records;

    /// <summary>alice's two latest events become P-1's, a person who also carried a.example@example.org.</summary>
    private async Task GiveAliceTwoNamesAsync()
    {
        var store = _factory.Services.GetRequiredService<Bonnie.Shared.Storage.IBonnieStore>();
        var (_, events) = await GetAsync("/api/events?q=user:alice@example.org&limit=2");
        var ids = events.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
        Assert.Equal("disabled", events.GetProperty("items")[0].GetProperty("identity").GetProperty("status").GetString());
        var at = DateTimeOffset.UtcNow;
        var identity = new Bonnie.Shared.Storage.EventIdentity { Status = "resolved", PersonId = "P-1", DisplayName = "Alice", ResolvedAt = at };
        await store.UpdateIdentityAsync(ids.Select(id => new Bonnie.Shared.Storage.IdentityUpdate(id, identity)).ToList(),
            [new("P-1", "Alice", ["alice@example.org", "a.example@example.org"], at)]);
    }

    [Fact]
    public async Task GetPerson_PersonWithTwoNames_ListsNamesAndEventCount()
    {
        await GiveAliceTwoNamesAsync();

        var (status, person) = await GetAsync("/api/people/P-1");
        var (unknown, _) = await GetAsync("/api/people/P-2");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, person.GetProperty("eventCount").GetInt64());
        Assert.Equal(["a.example@example.org", "alice@example.org"],
            person.GetProperty("names").EnumerateArray().Select(n => n.GetProperty("name").GetString()).Order());
        Assert.Equal(HttpStatusCode.NotFound, unknown);
    }

    [Fact]
    public async Task GetEvents_QueryWithAuditorKey_TotalItemsAndCursor()
    {
        var (status, body) = await GetAsync("/api/events?q=user:alice@example.org&limit=3");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(7, body.GetProperty("total").GetInt64());
        Assert.Equal(3, body.GetProperty("items").GetArrayLength());
        var next = body.GetProperty("next").GetString();
        var (_, rest) = await GetAsync($"/api/events?q=user:alice@example.org&limit=10&cursor={Uri.EscapeDataString(next!)}");
        Assert.Equal(4, rest.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
        Assert.Equal("AclChange", body.GetProperty("items")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task GetEvents_TwoPagesWithAuditorKey_EachPageAuditedAsASearchByTheKeysNameNeverTheKey()
    {
        var (_, first) = await GetAsync("/api/events?q=user:alice@example.org&limit=3&facets=user");
        var next = first.GetProperty("next").GetString()!;
        var (status, _) = await GetAsync($"/api/events?q=user:alice@example.org&limit=10&cursor={Uri.EscapeDataString(next)}");

        Assert.Equal(HttpStatusCode.OK, status);
        var searches = (await AuditAsync()).Where(r => r.Action == OfficerActions.Search).OrderBy(r => r.Sequence).ToList();
        Assert.Equal(2, searches.Count);
        Assert.All(searches, r => Assert.Equal(("api:auditor", "user:alice@example.org", "127.0.0.1"), (r.Officer, r.Target, r.ClientAddress)));
        Assert.Equal("""{"cursor":null,"facets":"user","limit":"3","via":"api"}""", searches[0].Details);
        Assert.Equal($$"""{"cursor":"{{next}}","facets":null,"limit":"10","via":"api"}""", searches[1].Details);
        Assert.DoesNotContain(AuditorKey, JsonSerializer.Serialize(await AuditAsync()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/events/{MessageNew}", OfficerActions.EventViewed, "{MessageNew}")]
    [InlineData("/api/messages/M743974037cbef97becd11ce5/history", OfficerActions.MessageViewed, "M743974037cbef97becd11ce5")]
    [InlineData("/api/folders/oe16bupldlr2b7ax2w5twkwq/history", OfficerActions.FolderViewed, "oe16bupldlr2b7ax2w5twkwq")]
    [InlineData("/api/users/cyrus/sessions", OfficerActions.SessionsViewed, "cyrus")]
    [InlineData("/api/quarantine", OfficerActions.QuarantineViewed, null)]
    [InlineData("/api/people/P-1", OfficerActions.PersonViewed, "P-1")]
    public async Task Read_WithAuditorKey_AuditedByTheKeysNameThroughTheApiNeverTheKey(string path, string action, string? target)
    {
        var eventId = JobId(Fixture("MessageNew"));
        await GiveAliceTwoNamesAsync();
        var before = (await AuditAsync()).Count;

        var (status, _) = await GetAsync(path.Replace("{MessageNew}", eventId, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, status);
        var records = await AuditAsync();
        var read = Assert.Single(records.Take(records.Count - before));
        Assert.Equal(("api:auditor", action, target?.Replace("{MessageNew}", eventId, StringComparison.Ordinal)), (read.Officer, read.Action, read.Target));
        Assert.Contains("\"via\":\"api\"", read.Details, StringComparison.Ordinal);
        Assert.DoesNotContain(AuditorKey, JsonSerializer.Serialize(records), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetEvents_RefusedLimitOrQuery_NotAuditedAsASearch()
    {
        await GetAsync("/api/events?q=user:alice@example.org&limit=0");
        await GetAsync("/api/events?q=" + Uri.EscapeDataString("(user:bob"));

        Assert.DoesNotContain(await AuditAsync(), r => r.Action == OfficerActions.Search);
    }

    [Theory]
    [InlineData("/api/events?q=user:cyrus&q=user:alice@example.org", "q is given 2 times")]
    [InlineData("/api/events?q=user:cyrus&cursor=a&cursor=b", "cursor is given 2 times")]
    [InlineData("/api/quarantine?limit=1&limit=2", "limit is given 2 times")]
    [InlineData("/api/users/alice@example.org/sessions?limit=1&limit=2", "limit is given 2 times")]
    public async Task Read_AParameterGivenTwice_RefusedNotJoined(string path, string error)
    {
        // Found by a review: q=a&q=b was searched as "a,b" and quietly found nothing.
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(error, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetEvent_UnknownIdWithAnInvisibleCharacter_NamedWithTheCharacterWrittenOut()
    {
        // A right-to-left override turns the rest of a line around wherever the message is shown: written out, not sent
        // back as it came (a review).
        var (status, body) = await GetAsync("/api/events/%C3%A9v%E2%80%AE");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("No event with id 'év\\u202E'.", body.GetProperty("error").GetString());
    }

    [Theory]
    // A misspelled q was ignored: every event in the store came back, as if it were the query's answer (a review).
    [InlineData("/api/events?qq=user:alice@example.org", "'qq'", "it takes q, limit, cursor, facets")]
    [InlineData("/api/events?q=user:cyrus&limt=5", "'limt'", "it takes q, limit, cursor, facets")]
    [InlineData("/api/feed?query=user:cyrus", "'query'", "it takes q, after, limit")]
    [InlineData("/api/events/abc?raw=1", "'raw'", "it takes none")]
    [InlineData("/api/quarantine?page=2", "'page'", "it takes limit, cursor")]
    public async Task Read_AParameterTheEndpointDoesNotTake_RefusedNamingIt_NothingRead(string path, string parameter, string takes)
    {
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error").GetString()!;
        Assert.Contains(parameter, error, StringComparison.Ordinal);
        Assert.Contains(takes, error, StringComparison.Ordinal);
        Assert.DoesNotContain(await AuditAsync(), r => r.Officer == "api:auditor");
    }

    [Theory]
    [InlineData("/api/events?q=user:alice@example.org&cursor=garbage", OfficerActions.Search)]
    [InlineData("/api/quarantine?cursor=garbage", OfficerActions.QuarantineViewed)]
    public async Task Read_CursorTheStoreRefuses_RefusedAndNotAudited(string path, string action)
    {
        // Found by a review: the read was recorded before the store refused its cursor, and whatever a client pasted
        // as a cursor stayed in the officers' audit log.
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetString()));
        Assert.DoesNotContain(await AuditAsync(), r => r.Action == action);
    }

    [Theory]
    [InlineData("é")]
    [InlineData("語")]
    [InlineData("𝒜")]
    public async Task GetEvents_QueryAtTheParsersLimitInNonAsciiCharacters_ReachesTheParserAndIsAnswered(string character)
    {
        // 語 takes 9 bytes percent-encoded for one character of the limit: the longest request line a valid query makes
        // (a letter: a query of symbols alone, such as €, is refused as having nothing to search for).
        var query = string.Concat(Enumerable.Repeat(character, QueryParser.MaxLength / character.Length));

        var (status, body) = await GetAsync("/api/events?q=" + Uri.EscapeDataString(query));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, body.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task GetEvents_NonAsciiQueryOverTheParsersLimit_TheParsersOwnRefusal()
    {
        var query = new string('€', QueryParser.MaxLength + 1);

        var (status, body) = await GetAsync("/api/events?q=" + Uri.EscapeDataString(query));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal($"The query is {QueryParser.MaxLength + 1} characters long; the limit is {QueryParser.MaxLength}.", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task GetEvents_Facets_CountsByType()
    {
        var (_, body) = await GetAsync("/api/events?q=folder:INBOX&facets=event");

        var facets = body.GetProperty("facets").GetProperty("event");
        Assert.Contains(facets.EnumerateArray(), f => f.GetProperty("value").GetString() == "MessageNew" && f.GetProperty("count").GetInt64() == 1);
    }

    [Fact]
    public async Task GetEvents_BadQuery_BadRequestPointingAtProblem()
    {
        var (status, body) = await GetAsync("/api/events?q=" + Uri.EscapeDataString("(user:bob"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("Expected ')'", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(9, body.GetProperty("position").GetInt32());
        Assert.Equal("')'", body.GetProperty("expected").GetString());
    }

    [Fact]
    public async Task GetEvents_ReadmeTemplateWithEmptyLimitAndCursor_FirstPageOfTheDefaultSize()
    {
        var (status, body) = await GetAsync("/api/events?q=user:alice@example.org&limit=&cursor=");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(7, body.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/quarantine?limit=&cursor=")]
    [InlineData("/api/users/cyrus/sessions?limit=")]
    public async Task Get_EmptyLimit_AnsweredWithTheDefault(string path)
    {
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/events?q=user:alice@example.org&limit=abc", EventSearch.MaxLimit)]
    [InlineData("/api/events?q=user:alice@example.org&limit=99999999999", EventSearch.MaxLimit)]
    [InlineData("/api/events?q=user:alice@example.org&limit=0", EventSearch.MaxLimit)]
    [InlineData("/api/events?q=user:alice@example.org&limit=-1", EventSearch.MaxLimit)]
    [InlineData("/api/events?q=user:alice@example.org&limit=1001", EventSearch.MaxLimit)]
    [InlineData("/api/events?q=user:alice@example.org&limit=2.5", EventSearch.MaxLimit)]
    [InlineData("/api/quarantine?limit=0", EventSearch.MaxLimit)]
    [InlineData("/api/quarantine?limit=abc", EventSearch.MaxLimit)]
    [InlineData("/api/users/cyrus/sessions?limit=-1", 10_000)]
    [InlineData("/api/users/cyrus/sessions?limit=abc", 10_000)]
    public async Task Get_BadLimit_BadRequestSayingWhatLimitTakes(string path, int max)
    {
        var (status, body) = await GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith($"limit must be a whole number between 1 and {max}", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal($"a whole number between 1 and {max}", body.GetProperty("expected").GetString());
    }

    [Fact]
    public async Task GetEvent_ById_CarriesRawNotificationUnchanged()
    {
        var json = Fixture("MessageNew");

        var (status, body) = await GetAsync("/api/events/" + JobId(json), key: AdminKey);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(json, body.GetProperty("raw").GetString());
        Assert.Equal("lmtp one", body.GetProperty("subject").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/api/events/" + new string('0', 64))).Status);
        // The same id in capitals (as some tools print hex) is the same event.
        var upper = await GetAsync("/api/events/" + JobId(json).ToUpperInvariant(), key: AdminKey);
        Assert.Equal(HttpStatusCode.OK, upper.Status);
        Assert.Equal(JobId(json), upper.Body.GetProperty("id").GetString());
    }

    [Fact]
    public async Task GetMessageHistory_CopiedMessage_ChangesAcrossFoldersInOrder()
    {
        var (status, body) = await GetAsync("/api/messages/M743974037cbef97becd11ce5/history");

        Assert.Equal(HttpStatusCode.OK, status);
        var changes = body.GetProperty("changes").EnumerateArray().Select(c => $"{c.GetProperty("aspect").GetString()} {c.GetProperty("key").GetString()}").ToList();
        Assert.Equal(["Existence ", "Location delivered", "Flag \\Seen", "Flag $Important", "Flag \\Flagged", "Location copied", "Flag $Important", "Flag \\Flagged", "Flag \\Seen"], changes);
        Assert.Equal(["MessageNew", "MessageRead", "FlagsSet", "MessageCopy"], body.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(2, body.GetProperty("item").GetProperty("locations").GetArrayLength());
    }

    [Fact]
    public async Task GetMessageHistory_FolderRenamedSinceTheCopy_EachLocationGivesTheNameThenAndTheNameNow()
    {
        // Archive renamed to Contracts after the message was copied there; a live review read the old name as current.
        var rename = TestStore.ArchiveRenamedToContracts();
        await ProcessAsync(rename);

        var (_, body) = await GetAsync("/api/messages/M743974037cbef97becd11ce5/history");

        var locations = body.GetProperty("item").GetProperty("locations").EnumerateArray()
            .Select(l => $"{l.GetProperty("folderName").GetString()} | {l.GetProperty("folderNameNow").GetString()}").ToList();
        Assert.Equal(["user/alice@example.org | user/alice@example.org", "user/alice/Archive@example.org | user/alice/Contracts@example.org"], locations);
    }

    [Fact]
    public async Task GetFolderHistory_ChildRenamedWithItsParent_ListsTheParentsRenameThatCausedIt()
    {
        // A live review: the child's history had its name change, but not the event that caused it.
        string Create(string id, string path, string at) => Fixture("MailboxCreate").Replace("sufr9a0wrxwpaaifzy6ge6cu", id, StringComparison.Ordinal)
            .Replace("user/alice%40example.org;", path + ";", StringComparison.Ordinal).Replace("11:19:56.732Z", at, StringComparison.Ordinal);
        var rename = Fixture("MailboxRename").Replace("me1de6rfcjp143mbleivr07x", "parent000000000000000001", StringComparison.Ordinal)
            .Replace("user/alice/Temp%40", "user/alice/Parent%40", StringComparison.Ordinal)
            .Replace("user/alice/Temp2%40", "user/alice/Renamed%40", StringComparison.Ordinal);
        await ProcessAsync(Create("parent000000000000000001", "user/alice/Parent%40example.org", "11:20:01.000Z"),
            Create("child0000000000000000001", "user/alice/Parent/Child%40example.org", "11:20:02.000Z"), rename);

        var (status, body) = await GetAsync("/api/folders/child0000000000000000001/history");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("user/alice/Renamed/Child@example.org", body.GetProperty("item").GetProperty("name").GetString());
        Assert.Equal(["MailboxCreate", "MailboxRename"], body.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task GetMessageHistory_BobsCopyProcessedBeforeHisDeliveryOfTheSameGuid_OneMessageOneHistoryUnderEitherKey()
    {
        // Alice's message (delivered, copied) is delivered to bob too by the same LMTP transaction (same GUID). Bob's
        // copy out of his INBOX is processed before his delivery: it makes a sighting keyed by Message-ID, which his
        // delivery then merges into alice's message.
        const string mid = "<179595122889.12822.11728137019898957721@probe.example.org>";
        var copy = Fixture("vnd.cmu.MessageCopy")
            .Replace("user/alice%40example.org;", "user/bob%40example.org;", StringComparison.Ordinal)
            .Replace("\"vnd.cmu.oldUidset\":\"1\"", "\"vnd.cmu.oldUidset\":\"7\"", StringComparison.Ordinal)
            .Replace("\"uidset\":\"2\"", "\"uidset\":\"9\"", StringComparison.Ordinal)
            .Replace("11:20:45.789Z", "11:40:00.000Z", StringComparison.Ordinal);
        var delivery = Fixture("MessageNew")
            .Replace("sufr9a0wrxwpaaifzy6ge6cu", "bobinbox00000000000000001", StringComparison.Ordinal)
            .Replace("user/alice%40example.org;", "user/bob%40example.org;", StringComparison.Ordinal)
            .Replace("UID=1", "UID=7", StringComparison.Ordinal)
            .Replace("\"user\":\"alice@example.org\"", "\"user\":\"bob@example.org\"", StringComparison.Ordinal)
            .Replace("11:20:28.951Z", "11:39:00.000Z", StringComparison.Ordinal);
        await ProcessAsync(copy, delivery);

        foreach (var key in new[] { "M743974037cbef97becd11ce5", "mid:" + mid })
        {
            var (status, body) = await GetAsync("/api/messages/" + Uri.EscapeDataString(key) + "/history");
            Assert.Equal(HttpStatusCode.OK, status);
            var item = body.GetProperty("item");
            Assert.Equal("M743974037cbef97becd11ce5", item.GetProperty("id").GetString());
            Assert.Equal(["mid:" + mid], item.GetProperty("mergedFrom").EnumerateArray().Select(k => k.GetString()));
            var places = item.GetProperty("locations").EnumerateArray()
                .Select(l => $"{l.GetProperty("folderId").GetString()}/{l.GetProperty("uid").GetUInt32()}").Order().ToList();
            Assert.Equal(["bobinbox00000000000000001/7", "oe16bupldlr2b7ax2w5twkwq/2", "oe16bupldlr2b7ax2w5twkwq/9", "sufr9a0wrxwpaaifzy6ge6cu/1"], places);
            var changes = body.GetProperty("changes").EnumerateArray()
                .Where(c => c.GetProperty("aspect").GetString() == "Location")
                .Select(c => $"{c.GetProperty("key").GetString()} {c.GetProperty("to").GetString()}").ToList();
            Assert.Equal(["delivered sufr9a0wrxwpaaifzy6ge6cu/1", "copied oe16bupldlr2b7ax2w5twkwq/2", "delivered bobinbox00000000000000001/7",
                "copied oe16bupldlr2b7ax2w5twkwq/9"], changes);
        }
    }

    [Fact]
    public async Task GetMessageHistory_KeyWithSlashPercentAndQuestionMark_FoundEscapedOrAsThePagesLinkIt()
    {
        // Found by a review: routing leaves %2F encoded (and decodes the rest), so a Message-ID holding '/' was never found.
        const string mid = "<a/b%41?x#y@odd.example.org>";
        var json = Fixture("MessageNew")
            .Replace("\"vnd.cmu.emailid\":\"M743974037cbef97becd11ce5\",", "", StringComparison.Ordinal)
            .Replace("<179595122889.12822.11728137019898957721@probe.example.org>", mid, StringComparison.Ordinal)
            .Replace("UID=1", "UID=5", StringComparison.Ordinal);
        await ProcessAsync(json);
        const string key = "mid:" + mid + ":567";

        foreach (var path in new[] { Uri.EscapeDataString(key), Bonnie.Web.Search.ItemLinks.Encode(key) })
        {
            var (status, body) = await GetAsync($"/api/messages/{path}/history");

            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(key, body.GetProperty("item").GetProperty("id").GetString());
        }
        var (missing, error) = await GetAsync("/api/messages/" + Uri.EscapeDataString("mid:<no/such@x>") + "/history");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Equal("No message with id 'mid:<no/such@x>'.", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task GetFolderHistory_AclGranted_EntryChange()
    {
        var (status, body) = await GetAsync("/api/folders/oe16bupldlr2b7ax2w5twkwq/history");

        Assert.Equal(HttpStatusCode.OK, status);
        var acl = body.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("aspect").GetString() == "Acl");
        Assert.Equal("bob@example.org", acl.GetProperty("key").GetString());
        Assert.Equal("lrs", acl.GetProperty("to").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/api/folders/nosuchfolder/history")).Status);
    }

    [Fact]
    public async Task GetSessions_LoginAndLogout_OneClosedSession()
    {
        var (status, body) = await GetAsync("/api/users/cyrus/sessions");

        Assert.Equal(HttpStatusCode.OK, status);
        var session = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal(0.043, session.GetProperty("durationSeconds").GetDouble(), 3);
        Assert.False(session.GetProperty("open").GetBoolean());
    }

    [Fact]
    public async Task GetQuarantine_UnparseableNotification_Listed()
    {
        var (status, body) = await GetAsync("/api/quarantine");

        Assert.Equal(HttpStatusCode.OK, status);
        var item = Assert.Single(body.GetProperty("items").EnumerateArray());
        Assert.Equal("not json at all", item.GetProperty("rawText").GetString());
        Assert.Equal("parse", item.GetProperty("stage").GetString());
        Assert.False(item.GetProperty("eventStored").GetBoolean());
    }

    [Fact]
    public async Task GetQuarantine_FailedJobsOneStoredByARetry_ListedWithStageReasonAndWhetherTheEventIsStoredNow()
    {
        var login = Encoding.UTF8.GetBytes(Fixture("Login"));
        var never = "{\"event\":\"Logout\",\"never\":\"stored\"}"u8.ToArray();
        var batch = new StoreBatch();
        batch.Quarantine.Add(new QuarantineItem
        {
            JobId = Convert.ToHexStringLower(SHA256.HashData(login)), At = DateTimeOffset.UtcNow, Stage = QuarantineStages.Failed,
            Reason = "processing Login failed: InvalidOperationException: the store was closing", RawSha256 = "", Raw = login,
        });
        batch.Quarantine.Add(new QuarantineItem
        {
            JobId = Convert.ToHexStringLower(SHA256.HashData(never)), At = DateTimeOffset.UtcNow, Stage = QuarantineStages.Broker,
            Reason = "the broker gave up after 8 attempts: deadline missed", RawSha256 = "", Raw = never,
        });
        await _factory.Services.GetRequiredService<IBonnieStore>().CommitAsync(batch);

        var (status, body) = await GetAsync("/api/quarantine");

        Assert.Equal(HttpStatusCode.OK, status);
        var items = body.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("stage").GetString()!);
        Assert.Equal(["broker", "failed", "parse"], items.Keys.Order());
        // The Login was stored by the set-up's processing: a retry that worked, as far as the quarantine can tell.
        Assert.True(items["failed"].GetProperty("eventStored").GetBoolean());
        Assert.Contains("the store was closing", items["failed"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.False(items["broker"].GetProperty("eventStored").GetBoolean());
        Assert.Equal(Encoding.UTF8.GetString(never), items["broker"].GetProperty("rawText").GetString());
    }
}
