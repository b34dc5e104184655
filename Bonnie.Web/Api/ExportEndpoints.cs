using System.Globalization;
using System.Security.Cryptography;
using Bonnie.Pipeline.Export;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Http.Features;

namespace Bonnie.Web.Api;

/// <summary>
/// <c>GET /api/export?q=&amp;keys=&amp;mbox=</c> and <c>POST /api/export</c>: an evidence bundle streamed as a ZIP. The
/// export is recorded in the officers' audit when it starts (with any selected key that names no message), again with
/// the manifest's SHA-256 before the manifest is written, and, when it does not end (the download stopped, the writing
/// failed), with how it ended.
/// </summary>
public static class ExportEndpoints
{
    public static IEndpointRouteBuilder MapBonnieExportApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/export").RequireAuthorization(BonniePolicies.CanExport).AnswerBadInput();
        api.MapGet("", (string? q, string? keys, string? mbox, HttpContext http, EvidenceBundleWriter writer, IOfficerAudit audit, IBonnieStore store,
                TimeProvider time) =>
        {
            // Keys may come in several parameters (they are joined); a query or the mbox flag twice is a mistake to say.
            ApiInput.Once(http.Request, "q", "mbox");
            return ExportAsync(new ExportBody(q, SplitKeys(keys), ApiInput.Flag("mbox", mbox)), http, writer, audit, store, time);
        });
        api.MapPost("", async (HttpContext http, EvidenceBundleWriter writer, IOfficerAudit audit, IBonnieStore store, TimeProvider time) =>
            await ExportAsync(await ApiInput.JsonBodyAsync<ExportBody>(http.Request, http.RequestAborted), http, writer, audit, store, time));
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

    private static async Task<IResult> ExportAsync(ExportBody body, HttpContext http, EvidenceBundleWriter writer, IOfficerAudit audit, IBonnieStore store,
        TimeProvider time)
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
        // Keys chosen by hand that name no message: said in the record, as in the bundle's report. A review typed one
        // wrong and the audit said only "messages: 2" when it started and "1" when the manifest was written.
        var notFound = new List<string>();
        foreach (var key in request.MessageKeys.Distinct(StringComparer.Ordinal))
        {
            if (await MessageHistory.ResolveAsync(store, key, cancellationToken) is null)
            {
                notFound.Add(key);
            }
        }
        // Named to the second and a few random letters: two bundles written in the same second had the same name, and
        // the name is how "Your exports" and the audit records tell a downloaded file apart.
        var name = $"bonnie-evidence-{time.GetUtcNow():yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}.zip";
        await audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Export, target, new Dictionary<string, string?>
        {
            ["stage"] = "started",
            ["messages"] = (keys.Count - notFound.Count).ToString(CultureInfo.InvariantCulture),
            ["selection"] = request.MessageKeys.Count == 0 ? null : string.Join(",", request.MessageKeys.Take(200)),
            ["notFound"] = notFound.Count == 0 ? null : string.Join(",", notFound.Take(200)),
            ["mbox"] = request.IncludeMbox ? "yes" : "no",
            ["bundle"] = name,
        }, client), cancellationToken);

        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.ContentType = "application/zip";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        try
        {
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
        }
        catch (Exception e)
        {
            // An export that started and did not end leaves a record of how it ended: a review stopped a download
            // half way and the audit said only "started", as if the bundle were still being written. Recorded without
            // the request's token, which is what was cancelled.
            var stopped = cancellationToken.IsCancellationRequested;
            using var recording = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await audit.RecordAsync(new OfficerAuditEntry(officer, OfficerActions.Export, target, new Dictionary<string, string?>
                {
                    ["stage"] = "aborted",
                    ["reason"] = stopped
                        ? "the download stopped before the bundle was complete (the client went away); the file it received is not the bundle"
                        : "the bundle could not be written (" + e.GetType().Name + "); the file received is not the bundle",
                    ["bundle"] = name,
                }, client), recording.Token);
            }
            catch (Exception recordFailure) when (recordFailure is not OperationCanceledException || recording.IsCancellationRequested)
            {
                // The audit itself may be what failed (the manifest's record is written through it): said in the log, and
                // the export's own failure is the one that goes on.
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExportEndpoints))
                    .LogError(recordFailure, "Could not record how the export of bundle {Bundle} ended", name);
            }
            if (stopped)
            {
                return Results.Empty;
            }
            throw;
        }
        return Results.Empty;
    }
}

public sealed record ExportBody(string? Query, IReadOnlyList<string>? MessageKeys, bool Mbox);
