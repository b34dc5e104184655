using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Elasticsearch.Tests;

/// <summary>One request as the fake cluster received it.</summary>
public sealed record FakeRequest(string Method, string Path, string Query, string ContentType, string Body, string Accept = "")
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    /// <summary>The lines of an NDJSON (bulk) body.</summary>
    public IReadOnlyList<JsonObject> Lines => Body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
}

public sealed record FakeResponse(int Status, string Body)
{
    public static FakeResponse Ok(JsonNode body) => new(200, body.ToJsonString());
}

/// <summary>
/// A small HTTP server on 127.0.0.1 that answers as Elasticsearch does (with the product header the client checks)
/// for the calls a test scripts, and records every request. What a real cluster refuses whatever the request means,
/// it refuses too, before the script is asked: mismatched media-type versions, a bulk item's id over 512 bytes, and a
/// document holding a term over Lucene's 32,766 bytes under the mappings the store put in its index templates.
/// </summary>
public sealed class FakeElasticsearch : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<FakeRequest> _requests = [];
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonObject> _templates = new(StringComparer.Ordinal);

    private FakeElasticsearch(WebApplication app) => _app = app;

    /// <summary>Answers a request; null falls back to <c>200 {"acknowledged":true}</c>.</summary>
    public Func<FakeRequest, FakeResponse?> Respond { get; set; } = _ => null;

    public Uri Url { get; private set; } = null!;

    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToList();
            }
        }
    }

    public static async Task<FakeElasticsearch> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        var app = builder.Build();
        var fake = new FakeElasticsearch(app);
        app.Run(fake.HandleAsync);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        fake.Url = new Uri(address);
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        // The client compresses request bodies, as a real cluster accepts.
        Stream body0 = context.Request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase)
            ? new System.IO.Compression.GZipStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress)
            : context.Request.Body;
        using var reader = new StreamReader(body0, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var request = new FakeRequest(context.Request.Method, context.Request.Path.Value!.TrimStart('/'), context.Request.QueryString.Value ?? "",
            context.Request.ContentType ?? "", body, context.Request.Headers.Accept.ToString());
        FakeResponse? refused;
        lock (_gate)
        {
            _requests.Add(request);
            if (request.Method == "PUT" && request.Path.StartsWith("_index_template/", StringComparison.Ordinal) && body.Length > 0)
            {
                _templates[request.Path["_index_template/".Length..]] = JsonNode.Parse(body)!["template"]!.AsObject();
            }
            refused = FakeValidation.Refuse(request, _templates);
        }
        var response = refused ?? Respond(request) ?? new FakeResponse(200, """{"acknowledged":true}""");
        context.Response.StatusCode = response.Status;
        context.Response.Headers["x-elastic-product"] = "Elasticsearch";
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
