using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace Bonnie.Web.Api;

/// <summary>
/// The body of every error the API answers: <c>{"error": "&lt;what was wrong&gt;"}</c>. A refused query or parameter
/// says more in the same shape (<see cref="QueryErrorDto"/>: <c>position</c>, <c>expected</c>).
/// </summary>
internal sealed record ApiErrorDto(string Error);

/// <summary>
/// One shape for the API's errors, whoever answers them: an endpoint, authorization, or the safety net below for
/// what an endpoint never sees (an unknown path, a wrong method, an unhandled exception). A message never carries a
/// key or a password, nor an exception's text, which may quote configuration.
/// </summary>
internal static class ApiErrors
{
    public static bool IsApi(HttpRequest request) => request.Path.StartsWithSegments("/api");

    public static IResult Answer(int statusCode, string error) => Results.Json(new ApiErrorDto(error), statusCode: statusCode);

    public static IResult NotFound(string error) => Answer(StatusCodes.Status404NotFound, error);

    /// <summary><paramref name="body"/>'s own fields with <c>error</c> added, for a refusal that also shows the state it met.</summary>
    public static IResult Answer(int statusCode, string error, object body)
    {
        var fields = JsonSerializer.SerializeToNode(body, JsonSerializerOptions.Web)!.AsObject();
        var answer = new JsonObject { ["error"] = error };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            answer[name] = value;
        }
        return Results.Json(answer, statusCode: statusCode);
    }

    /// <summary>For middleware that answers before any endpoint runs.</summary>
    public static Task WriteAsync(HttpContext context, int statusCode, string error)
    {
        context.Response.StatusCode = statusCode;
        return context.Response.WriteAsJsonAsync(new ApiErrorDto(error), context.RequestAborted);
    }

    /// <summary>
    /// A value from the request, quoted in a message, cut short when long. Invisible characters (controls, and format
    /// characters such as a right-to-left override, which turn the rest of a line around where the message is shown) are
    /// written as <c>\uXXXX</c>: a review had one echoed back as sent.
    /// </summary>
    public static string Quote(string text)
    {
        var shown = text.Length <= 80 ? text : text[..80] + "…";
        var builder = new System.Text.StringBuilder(shown.Length + 2).Append('\'');
        foreach (var c in shown)
        {
            if (char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format)
            {
                builder.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.Append('\'').ToString();
    }

    /// <summary>
    /// Under <c>/api</c>: an unhandled exception is answered 500 in the API's shape (a body the server could not read is
    /// answered with Kestrel's own status, e.g. 413), and any other error status left without a body gets one.
    /// </summary>
    public static IApplicationBuilder UseBonnieApiErrors(this IApplicationBuilder app) =>
        app.UseWhen(context => IsApi(context.Request), api => api
            .UseExceptionHandler(new ExceptionHandlerOptions
            {
                StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
                // A request the server refuses (a body over its limit, a malformed one) is the client's mistake, answered
                // with its status: not logged as the server's failure with a stack trace. A failure of the server is.
                SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException,
                ExceptionHandler = context => context.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException bad
                    ? WriteAsync(context, bad.StatusCode, bad.Message)
                    : WriteAsync(context, StatusCodes.Status500InternalServerError,
                        "The server failed to answer this request; the reason is in its log. Try again, or tell the administrator."),
            })
            .UseStatusCodePages(status => WriteAsync(status.HttpContext, status.HttpContext.Response.StatusCode,
                DefaultMessage(status.HttpContext))));

    private static string DefaultMessage(HttpContext context)
    {
        var request = context.Request;
        return context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => $"There is no API endpoint {request.Method} {Quote(request.Path)}.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {Quote(request.Path)}.",
            var status => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason ? reason + "." : $"The request failed ({status}).",
        };
    }
}
