using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Bonnie.Web.Audit;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Api;

/// <summary>
/// A second backfill started while one runs, over the real host on Kestrel. The IMAP admin is a listener that takes the
/// connection and never greets: the first run is certainly still connecting when the second start arrives, without
/// waiting on a clock for it.
/// </summary>
public sealed class BackfillConflictApiTests : IAsyncLifetime
{
    private const string AdminKey = "admin-key-c0nf11c7c0nf11c7c0";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bonnie-conflict-tests", Guid.NewGuid().ToString("N"));
    private readonly TcpListener _silentImap = new(IPAddress.Loopback, 0);
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;
    private TcpClient? _held;

    public Task InitializeAsync()
    {
        _silentImap.Start();
        var port = ((IPEndPoint)_silentImap.LocalEndpoint).Port;
        _factory = ApiHost.Start(_data, [("admin", AdminKey, "Administrator")], b =>
        {
            b.UseSetting("Bonnie:Payloads:Imap:Host", "127.0.0.1");
            b.UseSetting("Bonnie:Payloads:Imap:Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            b.UseSetting("Bonnie:Payloads:Imap:Security", "None");
            b.UseSetting("Bonnie:Payloads:Imap:Password", "not-used-the-server-never-greets");
            // Longer than the test: the first run must not give up on the greeting before the second start is sent.
            b.UseSetting("Bonnie:Payloads:Imap:Timeout", "00:10:00");
        });
        _client = _factory.CreateClient();
        _client.Timeout = TimeSpan.FromSeconds(30);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        // Stopping the host cancels the run that waits for the greeting.
        await _factory.DisposeAsync();
        _held?.Dispose();
        _silentImap.Stop();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task PostBackfill_WhileOneRuns_ConflictInJsonSayingABackfillIsRunningAndNothingMoreStarts()
    {
        using var first = await SendAsync(HttpMethod.Post, "/api/backfill");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        // The first run has reached the IMAP server and waits there: it is running, whatever the scheduler did.
        using (var accept = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            _held = await _silentImap.AcceptTcpClientAsync(accept.Token);
        }

        using var second = await SendAsync(HttpMethod.Post, "/api/backfill");
        var text = await second.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("A backfill is already running; follow it with GET /api/backfill.", body.GetProperty("error").GetString());
        // The state it met is shown beside the error, so a client sees which run it collided with.
        Assert.Equal("running", body.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.String, body.GetProperty("startedAt").ValueKind);
        var records = (await _factory.Services.GetRequiredService<OfficerAuditLog>().ReadPageAsync(0, 100)).Records;
        Assert.Single(records, r => r.Action == OfficerActions.BackfillStarted);
    }
}
