using System.Text.Json;
using Bonnie.Pipeline.Backfill;
using Bonnie.Web.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Api;

/// <summary>The refusal that also shows the state it met (a second backfill's 409): the state's fields, and the error.</summary>
public sealed class ApiErrorsTests
{
    [Fact]
    public async Task Answer_WithABody_TheBodysFieldsAtTheTopAndTheError()
    {
        var progress = BackfillProgress.Idle with { State = "running", FoldersTotal = 42, CurrentFolder = "user/alice@example.org" };
        await using var services = new ServiceCollection().AddLogging().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();

        await ApiErrors.Answer(StatusCodes.Status409Conflict, "A backfill is already running.", progress).ExecuteAsync(http);

        Assert.Equal(StatusCodes.Status409Conflict, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        using var body = await JsonDocument.ParseAsync(http.Response.Body);
        var root = body.RootElement;
        Assert.Equal("A backfill is already running.", root.GetProperty("error").GetString());
        Assert.Equal("running", root.GetProperty("state").GetString());
        Assert.Equal(42, root.GetProperty("foldersTotal").GetInt32());
        Assert.Equal("user/alice@example.org", root.GetProperty("currentFolder").GetString());
    }
}
