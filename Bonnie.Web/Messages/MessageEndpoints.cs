using System.Globalization;
using Bonnie.Shared.Storage;
using Bonnie.Web.Audit;
using Bonnie.Web.Search;
using Bonnie.Web.Security;

namespace Bonnie.Web.Messages;

/// <summary>Downloads of a stored message: the exact .eml and its attachments, for officers who may search, each audited.</summary>
public static class MessageEndpoints
{
    public static IEndpointRouteBuilder MapMessageDownloads(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/messages/{key}").RequireAuthorization(BonniePolicies.CanSearch);
        group.MapGet("/raw", RawAsync);
        group.MapGet("/attachments/{index:int}", AttachmentAsync);
        return app;
    }

    private static async Task<IResult> RawAsync(string key, HttpContext context, IBonnieStore store, IPayloadStore payloads, IOfficerAudit audit,
        CancellationToken cancellationToken)
    {
        var (messageKey, payload) = await LoadAsync(key, store, payloads, cancellationToken);
        if (payload is null)
        {
            return Results.NotFound();
        }
        await RecordAsync(context, audit, messageKey!, "raw", cancellationToken);
        return Results.File(payload, "message/rfc822", FileNameFor(messageKey!) + ".eml");
    }

    private static async Task<IResult> AttachmentAsync(string key, int index, HttpContext context, IBonnieStore store, IPayloadStore payloads,
        IOfficerAudit audit, CancellationToken cancellationToken)
    {
        var (messageKey, payload) = await LoadAsync(key, store, payloads, cancellationToken);
        if (payload is null || MessageContent.Attachment(payload, index) is not { } file)
        {
            return Results.NotFound();
        }
        await RecordAsync(context, audit, messageKey!, "attachment " + index.ToString(CultureInfo.InvariantCulture) + ": " + file.FileName, cancellationToken);
        // Never served as what it claims to be: an HTML attachment must not run on this origin.
        return Results.File(file.Bytes, "application/octet-stream", file.FileName);
    }

    private static async Task<(string? Key, byte[]? Payload)> LoadAsync(string segment, IBonnieStore store, IPayloadStore payloads,
        CancellationToken cancellationToken)
    {
        // A merged sighting's key downloads the message it turned out to be.
        if (ItemLinks.Decode(segment) is not { } key
            || await MessageHistory.ResolveAsync(store, key, cancellationToken) is not { PayloadSha256: { } sha } message)
        {
            return (null, null);
        }
        return (message.Key, await payloads.GetAsync(sha, cancellationToken));
    }

    private static async Task RecordAsync(HttpContext context, IOfficerAudit audit, string key, string what, CancellationToken cancellationToken) =>
        await audit.RecordAsync(new OfficerAuditEntry(context.User.Identity?.Name ?? "?", OfficerActions.MessageDownloaded, key,
            new Dictionary<string, string?> { ["download"] = what }, context.Connection.RemoteIpAddress?.ToString()), cancellationToken);

    private static string FileNameFor(string key) =>
        new(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').Take(100).ToArray());
}
