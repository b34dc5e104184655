using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Microsoft.AspNetCore.Hosting;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bonnie.Web.Tests.Api;

/// <summary>
/// Who may reach what over the API and the downloads, with every role's key, a wrong key and none, on a host whose
/// every log line (down to Trace) is kept so that no key or password can be found in it afterwards.
/// </summary>
public sealed class ApiAccessTests : IAsyncLifetime
{
    private const string AuditorKey = "auditor-key-5f0c1d2e3a4b5c6d7e";
    private const string InvestigatorKey = "investigator-key-9a8b7c6d5e4f3a";
    private const string RestorerKey = "restorer-key-1122334455667788aa";
    private const string AdministratorKey = "administrator-key-0ff1ce0ff1ce00";
    private const string WrongKey = "mistyped-key-deadbeefdeadbeef00";
    private const string ImapPassword = "imap-admin-password-7h1s-1s-s3cr3t";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "bonnie-access-tests", Guid.NewGuid().ToString("N"));
    private readonly CapturedLogs _logs = new();
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;
    private byte[] _deliveredBytes = [];
    private string _messageKey = "";

    public async Task InitializeAsync()
    {
        _factory = ApiHost.Start(_data,
            [
                ("auditor", AuditorKey, "Auditor"), ("investigator", InvestigatorKey, "Investigator"),
                ("restorer", RestorerKey, "Restorer"), ("administrator", AdministratorKey, "Administrator"),
            ],
            b =>
            {
                // An IMAP admin that refuses connections (the discard port): the backfill is configured, so an
                // administrator's start is real and fails, and its password is one more secret to look for in the logs.
                b.UseSetting("Bonnie:Payloads:Imap:Host", "127.0.0.1");
                b.UseSetting("Bonnie:Payloads:Imap:Port", "9");
                b.UseSetting("Bonnie:Payloads:Imap:Security", "None");
                b.UseSetting("Bonnie:Payloads:Imap:Password", ImapPassword);
                b.UseSetting("Logging:LogLevel:Default", "Trace");
                b.ConfigureLogging(l => l.AddProvider(_logs));
            });
        _client = _factory.CreateClient();
        _client.Timeout = TimeSpan.FromSeconds(30);

        // A Cyrus 2.5 delivery carries its message: the payload is stored, so the download has something to give.
        var notification = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events-2.5", "MessageNew.json"));
        await using var scope = _factory.Services.CreateAsyncScope();
        var processor = scope.ServiceProvider.GetRequiredService<StoreJobProcessor>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var outcome = await processor.ProcessAsync(new Job(Convert.ToHexStringLower(SHA256.HashData(notification)), notification, 0, DateTimeOffset.UtcNow), timeout.Token);
        Assert.IsType<JobOutcome.Done>(outcome);
        var store = _factory.Services.GetRequiredService<IBonnieStore>();
        var delivered = Assert.Single((await store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("messageid:<c0ffee01.4411@example.net>") })).Items);
        Assert.Equal(PayloadStatus.Stored, delivered.PayloadStatus);
        _messageKey = Assert.Single(delivered.MessageKeys);
        _deliveredBytes = (await _factory.Services.GetRequiredService<IPayloadStore>().GetAsync(delivered.PayloadSha256!))!;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }
        else if (method == HttpMethod.Post)
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }
        return await _client.SendAsync(request);
    }

    private string Raw => "/" + Bonnie.Web.Search.ItemLinks.MessageRaw(_messageKey);

    [Fact]
    public async Task MessageDownload_WithoutOrWithAWrongKey_RefusedWithoutAByteOfTheMessage()
    {
        using var none = await SendAsync(HttpMethod.Get, Raw, key: null);
        using var wrong = await SendAsync(HttpMethod.Get, Raw, WrongKey);
        using var attachment = await SendAsync(HttpMethod.Get, "/" + Bonnie.Web.Search.ItemLinks.Attachment(_messageKey, 0), WrongKey);

        // Without credentials a browser is sent to sign in; a wrong key is told it is not valid.
        // (The client follows the redirect: it lands on the sign-in page, which asks to come back here.)
        var landed = none.RequestMessage!.RequestUri!;
        Assert.Equal("/signin", landed.AbsolutePath);
        Assert.Contains("ReturnUrl=%2Fmessages%2F", landed.Query, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, attachment.StatusCode);
        foreach (var response in new[] { none, wrong, attachment })
        {
            Assert.DoesNotContain("revised terms", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MessageDownload_AuditorKey_TheExactBytesAndTheDownloadAudited()
    {
        using var response = await SendAsync(HttpMethod.Get, Raw, AuditorKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("message/rfc822", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(_deliveredBytes, await response.Content.ReadAsByteArrayAsync());
        var records = (await _factory.Services.GetRequiredService<OfficerAuditLog>().ReadPageAsync(0, 100)).Records;
        Assert.Contains(records, r => r.Officer == "api:auditor" && r.Action == OfficerActions.MessageDownloaded && r.Target == _messageKey);
    }

    [Fact]
    public async Task Restore_IntoAnotherPersonsMailbox_RestorerRefusedAndRecorded_AdministratorAndOwnMailboxPlanned()
    {
        // Sam's message into mallory's mailbox would hand one person's mail to another: that takes an administrator.
        async Task<(HttpStatusCode, JsonElement)> PlanAsync(string key, string target)
        {
            using var response = await SendAsync(HttpMethod.Post, "/api/restore", key,
                new { scope = "messages", messageKeys = new[] { _messageKey }, targetFolder = target, dryRun = true });
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        var (refused, error) = await PlanAsync(RestorerKey, "user/mallory/From-sam@example.org");
        var (own, ownPlan) = await PlanAsync(RestorerKey, "user/sam.park/Restored@example.org");
        var (admin, adminPlan) = await PlanAsync(AdministratorKey, "user/mallory/From-sam@example.org");

        Assert.Equal(HttpStatusCode.Forbidden, refused);
        Assert.Equal("Restoring mail of sam.park@example.org into mallory@example.org's mailbox needs the Administrator role: a Restorer puts mail back into the mailbox it came from.",
            error.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, own);
        Assert.Equal(1, ownPlan.GetProperty("messages").GetInt32());
        Assert.Equal(HttpStatusCode.OK, admin);
        Assert.Equal("user/mallory/From-sam@example.org", adminPlan.GetProperty("folders")[0].GetProperty("folder").GetString());
        var records = (await _factory.Services.GetRequiredService<OfficerAuditLog>().ReadPageAsync(0, 100)).Records;
        var attempt = Assert.Single(records, r => r.Action == OfficerActions.Restore && r.Details.Contains("\"refused\"", StringComparison.Ordinal));
        Assert.Equal(("api:restorer", "user/mallory/From-sam@example.org"), (attempt.Officer, attempt.Target));
        Assert.Contains($"\"selection\":\"messages {_messageKey}\"", attempt.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_MessageFromAFolderWithNoRecordedName_RestorerRefusedIntoAnotherMailbox()
    {
        // Without a target the planner leaves such a message out; the check read its mailbox from that plan, so it let a
        // Restorer put the message anywhere (found by a review).
        var store = _factory.Services.GetRequiredService<IBonnieStore>();
        var known = await store.GetMessageAsync(_messageKey);
        var orphan = new MessageObject
        {
            Key = "Morphan0000000000000000001", PayloadStatus = PayloadStatus.Stored, PayloadSha256 = known!.PayloadSha256, Size = known.Size,
            Locations = [new MessageLocation { FolderId = "never-named", Uid = 3, Since = DateTimeOffset.UtcNow.AddDays(-2), Until = DateTimeOffset.UtcNow.AddDays(-1), EndReason = "expunged", Origin = LocationOrigin.Delivered }],
        };
        var batch = new StoreBatch();
        batch.Messages[orphan.Key] = orphan;
        await store.CommitAsync(batch);
        using var response = await SendAsync(HttpMethod.Post, "/api/restore", RestorerKey,
            new { scope = "messages", messageKeys = new[] { orphan.Key }, targetFolder = "user/mallory/X@example.org", dryRun = true });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("a folder Bonnie has no mailbox for", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AuditorKey)]
    [InlineData(InvestigatorKey)]
    [InlineData(RestorerKey)]
    public async Task Backfill_AnyRoleButAdministrator_ForbiddenAndNothingStarts(string key)
    {
        using var get = await SendAsync(HttpMethod.Get, "/api/backfill", key);
        using var post = await SendAsync(HttpMethod.Post, "/api/backfill", key);

        Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        using var progress = await SendAsync(HttpMethod.Get, "/api/backfill", AdministratorKey);
        Assert.Equal(HttpStatusCode.OK, progress.StatusCode);
        Assert.Equal("idle", JsonDocument.Parse(await progress.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString());
        var records = (await _factory.Services.GetRequiredService<OfficerAuditLog>().ReadPageAsync(0, 100)).Records;
        Assert.DoesNotContain(records, r => r.Action == OfficerActions.BackfillStarted);
    }

    [Theory]
    [InlineData("GET", "/api/events")]
    [InlineData("GET", "/api/backfill")]
    [InlineData("POST", "/api/backfill")]
    [InlineData("GET", "/api/restore")]
    [InlineData("POST", "/api/restore")]
    [InlineData("GET", "/api/export?q=user:sam*")]
    [InlineData("GET", "/api/audit?format=csv")]
    public async Task Api_WrongKey_Unauthorized(string method, string path)
    {
        using var response = await SendAsync(new HttpMethod(method), path, WrongKey);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Logs_EveryKeyUsedAndABackfillThatFails_NoKeyAndNoPasswordInAnyLine()
    {
        foreach (var key in new[] { AuditorKey, InvestigatorKey, RestorerKey, AdministratorKey, WrongKey })
        {
            (await SendAsync(HttpMethod.Get, "/api/events?q=user:sam*", key)).Dispose();
            (await SendAsync(HttpMethod.Get, Raw, key)).Dispose();
        }
        using var started = await SendAsync(HttpMethod.Post, "/api/backfill", AdministratorKey);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        string state;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(100);
            using var progress = await SendAsync(HttpMethod.Get, "/api/backfill", AdministratorKey);
            state = JsonDocument.Parse(await progress.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString()!;
        }
        while (state == "running" && DateTime.UtcNow < deadline);

        Assert.Equal("failed", state);
        var lines = _logs.Lines.ToList();
        // The log did see the requests and the failed run: the absence below is not that of an empty log.
        Assert.Contains(lines, l => l.Contains("ApiKey was successfully authenticated", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("The API key is not valid", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Backfill failed", StringComparison.Ordinal));
        foreach (var secret in new[] { AuditorKey, InvestigatorKey, RestorerKey, AdministratorKey, WrongKey, ImapPassword })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
    }
}
