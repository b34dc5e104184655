using System.Globalization;
using System.Text;
using Bonnie.Shared.IO;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;

namespace Bonnie.Web.Api;

/// <summary>
/// <c>GET /api/audit</c>: the officers' audit log, filtered by officer, action, text and time (administrators only),
/// as JSON pages or, with <c>format=csv</c>, as one CSV file. Reading it is itself recorded.
/// </summary>
public static class AuditEndpoints
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapBonnieAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/audit").RequireAuthorization(BonniePolicies.CanAdminister).AnswerBadInput()
            .MapGet("", ReadAsync);
        return app;
    }

    private static async Task<IResult> ReadAsync(OfficerAuditLog log, IOfficerAudit audit, HttpContext http, string? officer, string? action,
        string? text, string? after, string? before, string? limit, string? cursor, string? format, CancellationToken cancellationToken)
    {
        ApiInput.OnlyOnce(http.Request, "officer", "action", "text", "after", "before", "limit", "cursor", "format");
        var filter = new AuditFilter(officer, action, text, AuditTimes.Parse("after", after), AuditTimes.Parse("before", before));
        var csv = (format ?? "json").Trim().ToLowerInvariant() switch
        {
            "json" or "" => false,
            "csv" => true,
            _ => throw new ApiInputException($"format must be json or csv, not '{ApiInput.Shorten(format ?? "")}'.", "json or csv"),
        };
        var count = ApiInput.Limit(limit, DefaultLimit, MaxLimit);
        var below = Cursor(cursor);
        // Recorded before anything of the log is answered, with what was asked for.
        await audit.RecordApiReadAsync(http, OfficerActions.AuditRead, null, Describe(filter, csv ? "csv" : "json"), cancellationToken);
        if (csv)
        {
            return Results.Stream(stream => WriteCsvAsync(log, filter, stream, http.RequestAborted), "text/csv; charset=utf-8",
                $"bonnie-officers-audit-{DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}.csv");
        }
        // Pages by sequence, newest first: each read appends its own record (and others act meanwhile), so a page by
        // offset began with the last record of the page before (found by a review).
        var (records, total) = await log.ReadPageAsync(filter with { BelowSequence = below }, 0, count + 1, cancellationToken);
        var page = records.Take(count).ToList();
        return Results.Ok(new { total, items = page, next = records.Count > count ? page[^1].Sequence : (long?)null });
    }

    private static long? Cursor(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0
            ? sequence
            : throw new ApiInputException($"cursor must be the next of a previous page, not '{ApiInput.Shorten(text)}'.", "a page's next");
    }

    internal static Dictionary<string, string?> Describe(AuditFilter filter, string format) => new()
    {
        ["officer"] = filter.Officer, ["action"] = filter.Action, ["text"] = filter.Text,
        ["after"] = filter.After?.ToString("O", CultureInfo.InvariantCulture), ["before"] = filter.Before?.ToString("O", CultureInfo.InvariantCulture),
        ["format"] = format,
    };

    /// <summary>
    /// One row per record, oldest first, every field quoted. A value that a spreadsheet would take for a formula (it
    /// starts with = + - @, a tab or a carriage return: an officer's name or a searched text is anyone's input) is
    /// prefixed with a single quote; the JSON form gives every value exactly, for checking the chain's hashes.
    /// </summary>
    internal static async Task WriteCsvAsync(OfficerAuditLog log, AuditFilter filter, Stream stream, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024, leaveOpen: true);
        await writer.WriteAsync("sequence,time,officer,action,target,details,client,previous_hash,hash\r\n".AsMemory(), cancellationToken);
        await foreach (var r in log.ReadAllAsync(filter, cancellationToken))
        {
            var line = string.Join(',', r.Sequence.ToString(CultureInfo.InvariantCulture),
                CsvCell.Of(r.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture)), CsvCell.Of(r.Officer), CsvCell.Of(r.Action),
                CsvCell.Of(r.Target), CsvCell.Of(r.Details), CsvCell.Of(r.ClientAddress), CsvCell.Of(r.PreviousHash), CsvCell.Of(r.Hash));
            await writer.WriteAsync((line + "\r\n").AsMemory(), cancellationToken);
        }
    }
}

/// <summary>The times of an audit filter: a day (<c>2026-12-01</c>, from its start, UTC) or an ISO 8601 time with its offset.</summary>
internal static class AuditTimes
{
    private static readonly string[] Formats =
        ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    public static DateTimeOffset? Parse(string name, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (DateTimeOffset.TryParseExact(text.Trim(), Formats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time;
        }
        const string Expected = "a day (2026-12-01) or an ISO 8601 time (2026-12-01T09:30:00Z)";
        throw new ApiInputException($"{name} must be {Expected}, not '{ApiInput.Shorten(text)}'.", Expected);
    }
}
