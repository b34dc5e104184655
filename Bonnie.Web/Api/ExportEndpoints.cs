using System.Globalization;
using Bonnie.Pipeline.Export;
using Bonnie.Shared.Search;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Http.Features;

namespace Bonnie.Web.Api;

/// <summary>
/// <c>GET /api/export?q=&amp;keys=&amp;mbox=</c> and <c>POST /api/export</c>: an evidence bundle streamed as a ZIP. The
/// export is recorded in the officers' audit when it starts, and again with the manifest's SHA-256 before the
/// manifest is written.
/// </summary>
public static class ExportEndpoints
{
    public static IEndpointRouteBuilder MapBonnieExportApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/export").RequireAuthorization(BonniePolicies.CanExport).AnswerBadInput();
        api.MapGet("", (string? q, string? keys, string? mbox, HttpContext http, EvidenceBundleWriter writer, IOfficerAudit audit) =>
            ExportAsync(new ExportBody(q, SplitKeys(keys), ApiInput.Flag("mbox", mbox)), http, writer, audit));
        api.MapPost("", async (HttpContext http, EvidenceBundleWriter writer, IOfficerAudit audit) =>
            await ExportAsync(await ApiInput.JsonBodyAsync<ExportBody>(http.Request, http.RequestAborted), http, writer, audit));
        return app;
    }

    /// <summary>Registers the bundle writer (the store comes from <c>AddBonnieStore</c>).</summary>
    public static IServiceCollection AddBonnieExport(this IServiceCollection services)
    {
        services.AddSingleton<EvidenceBundleWriter>();
        return services;
    }

    private static string[] SplitKeys(string? keys)
        => (keys ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static async Task<IResult> ExportAsync(ExportBody body, HttpContext http, EvidenceBundleWriter writer, IOfficerAudit audit)
    {
        var cancellationToken = http.RequestAborted;
        ApiInput.SelectionWithinLimit(body.MessageKeys);
        if (string.IsNullOrWhiteSpace(body.Query) && (body.MessageKeys is null || body.MessageKeys.Count == 0))
        {
            return ApiErrors.Answer(StatusCodes.Status400BadRequest, "Give a query (q) or message keys (keys) to export.");
        }
        var officer = RestoreEndpoints.Officer(http.User);
        var client = http.Connection.RemoteIpAddress?.ToString();
        var request = new ExportRequest
        {
            Query = string.IsNullOrWhiteSpace(body.Query) ? null : body.Query,
            MessageKeys = body.MessageKeys ?? [],
            IncludeMbox = body.Mbox,
            Officer = officer,
            ClientAddress = client,
        };
        IReadOnlyList<string> keys;
        try
        {
            keys = await writer.ResolveKeysAsync(request, cancellationToken);
        }
        catch (QuerySyntaxException ex)
        {
            return Results.BadRequest(new QueryErrorDto(ex.Message, ex.Position, ex.Expected));
        }
        var target = request.Query ?? "selection";
        await audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Export, target, new Dictionary<string, string?>
        {
            ["stage"] = "started",
            ["messages"] = keys.Count.ToString(CultureInfo.InvariantCulture),
            ["selection"] = request.MessageKeys.Count == 0 ? null : string.Join(",", request.MessageKeys.Take(200)),
            ["mbox"] = request.IncludeMbox ? "yes" : "no",
        }, client), cancellationToken);

        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = "application/zip";
        var name = $"bonnie-evidence-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.zip";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        await writer.WriteAsync(request, keys, http.Response.Body, (manifestSha, summary, ct) =>
            audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Export, target, new Dictionary<string, string?>
            {
                ["stage"] = "manifest",
                ["manifestSha256"] = manifestSha,
                ["messages"] = summary.Messages.ToString(CultureInfo.InvariantCulture),
                ["withoutPayload"] = summary.WithoutPayload.ToString(CultureInfo.InvariantCulture),
                ["files"] = summary.Files.ToString(CultureInfo.InvariantCulture),
                ["bundle"] = name,
            }, client), ct), cancellationToken);
        return Results.Empty;
    }
}

public sealed record ExportBody(string? Query, IReadOnlyList<string>? MessageKeys, bool Mbox);
