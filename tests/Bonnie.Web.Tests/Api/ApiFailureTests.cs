using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bonnie.Web.Audit;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bonnie.Web.Tests.Api;

/// <summary>
/// What an API client gets when the server, not the request, is at fault, or when a body is more than the server
/// takes: the API's error shape, without the exception's text.
/// </summary>
public sealed class ApiFailureTests : IAsyncLifetime
{
    private const string RestorerKey = "restorer-key-0123456789abcdef";
    private const string Secret = "audit-volume-password-5ecr3t";
    private const int MaxBody = 1024;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "bonnie-api-failure-tests", Guid.NewGuid().ToString("N"));
    private readonly CapturedLogs _logs = new();
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _factory = ApiHost.Start(_data, [("restorer", RestorerKey, "Restorer")], b =>
        {
            b.ConfigureTestServices(s => s.AddSingleton<IOfficerAudit>(new FailingAudit()));
            b.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = MaxBody);
            b.ConfigureLogging(l => l.AddProvider(_logs));
        });
        _client = _factory.CreateClient();
        _client.Timeout = TimeSpan.FromSeconds(30);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_data, recursive: true);
    }

    private async Task<(HttpStatusCode Status, string? MediaType, string Text)> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RestorerKey);
        using var response = await _client.SendAsync(request);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Read_AuditThrows_InternalServerErrorWithAnErrorButNotTheExceptionsText()
    {
        var (status, mediaType, text) = await SendAsync(HttpMethod.Get, "/api/quarantine");

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal("application/json", mediaType);
        Assert.StartsWith("The server failed to answer this request", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString(),
            StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        // The server's own failure is in its log, for the administrator the answer sends there.
        Assert.Contains(_logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("IOException", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restore_BodyOverTheServersLimit_PayloadTooLargeWithAnError()
    {
        var body = "{\"scope\":\"messages\",\"messageKeys\":[\"" + new string('M', MaxBody * 2) + "\"],\"dryRun\":true}";

        var (status, mediaType, text) = await SendAsync(HttpMethod.Post, "/api/restore", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("application/json", mediaType);
        Assert.Contains("too large", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        // The client's mistake, answered: not logged as the server's failure with a stack trace (a review found it so).
        Assert.DoesNotContain(_logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal));
    }

    /// <summary>
    /// An audit whose disk fails when a quarantine read is recorded, so that read must stop, since none may go
    /// unrecorded (the start-up's own records go through: the host must start).
    /// </summary>
    private sealed class FailingAudit : IOfficerAudit
    {
        public Task<OfficerAuditRecord> RecordAsync(OfficerAuditEntry entry, CancellationToken cancellationToken = default) =>
            entry.Action == OfficerActions.QuarantineViewed
                ? throw new IOException($"The audit volume is read-only (mount option password={Secret}).")
                : Task.FromResult(new OfficerAuditRecord(0, DateTimeOffset.UtcNow, entry.Officer, entry.Action, entry.Target, "{}",
                    entry.ClientAddress, "", ""));
    }
}
