using System.Globalization;
using System.Text.Json;
using Bonnie.Shared.Search;

namespace Bonnie.Web.Api;

/// <summary>
/// Reads the API's numbers, flags and bodies by hand: bound by minimal APIs, a bad one is refused with an empty
/// 400 that does not say which parameter was wrong. Each refusal here names the parameter and what it takes.
/// </summary>
internal static class ApiInput
{
    /// <summary>
    /// Refuses a parameter given more than once: routing would join the values with a comma (<c>q=a&amp;q=b</c> searched
    /// for "a,b" and quietly found nothing).
    /// </summary>
    public static void Once(HttpRequest request, params string[] names)
    {
        foreach (var name in names)
        {
            if (request.Query.TryGetValue(name, out var values) && values.Count > 1)
            {
                throw new ApiInputException($"{name} is given {values.Count} times; give it once.", $"one {name}");
            }
        }
    }

    /// <summary>
    /// <see cref="Once"/>, and refuses a parameter the endpoint does not take: a misspelled one was ignored, so
    /// <c>/api/events?qq=user:alice</c> answered every event in the store as if it were alice's (a review).
    /// </summary>
    public static void OnlyOnce(HttpRequest request, params string[] names)
    {
        foreach (var given in request.Query.Keys)
        {
            if (!names.Contains(given, StringComparer.Ordinal))
            {
                var takes = names.Length == 0 ? "it takes none" : "it takes " + string.Join(", ", names);
                throw new ApiInputException($"This endpoint does not take the parameter '{Shorten(given)}' ({takes}); nothing was read.",
                    names.Length == 0 ? "no parameter" : string.Join(" or ", names));
            }
        }
        Once(request, names);
    }

    /// <summary>The most message keys one restore or export request may name; a larger selection is refused (413).</summary>
    public const int MaxSelectedKeys = 10_000;

    /// <summary>Refuses a selection of more than <see cref="MaxSelectedKeys"/> message keys, saying how to do it instead.</summary>
    public static void SelectionWithinLimit(IReadOnlyCollection<string>? keys)
    {
        if (keys is { Count: > MaxSelectedKeys })
        {
            throw new ApiInputException(
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{keys.Count:N0} message keys are more than one request takes ({MaxSelectedKeys:N0}); select by a query (folder, mailbox, q) or split the selection."),
                $"at most {MaxSelectedKeys} message keys", StatusCodes.Status413PayloadTooLarge);
        }
    }

    /// <summary>
    /// <c>limit</c>, or <paramref name="fallback"/> when it is absent or empty: the README's own template
    /// <c>?q=&amp;limit=&amp;cursor=</c> sends it empty.
    /// </summary>
    public static int Limit(string? text, int fallback, int max)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit >= 1 && limit <= max)
        {
            return limit;
        }
        var expected = $"a whole number between 1 and {max}";
        throw new ApiInputException($"limit must be {expected}, not '{Shorten(text)}'.", expected);
    }

    /// <summary>
    /// Gives every endpoint of the group its <c>id</c> and <c>login</c> route values as the client sent them
    /// (<see cref="RouteValue"/>), in one place rather than in each handler.
    /// </summary>
    public static TBuilder ReadIdsAsSent<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory((factory, next) =>
        {
            var ids = factory.MethodInfo.GetParameters()
                .Select((p, i) => (p.Name, p.ParameterType, Index: i))
                .Where(p => p.ParameterType == typeof(string) && p.Name is "id" or "login")
                .ToList();
            return ids.Count == 0
                ? next
                : context =>
                {
                    foreach (var (name, _, index) in ids)
                    {
                        if (context.Arguments[index] is string routed)
                        {
                            context.Arguments[index] = RouteValue(context.HttpContext, name!, routed);
                        }
                    }
                    return next(context);
                };
        });

    /// <summary>
    /// An id from the path as the client sent it. Routing decodes every escape but <c>%2F</c>, so an id holding '/'
    /// (a Message-ID <c>mid:&lt;a/b@host&gt;</c>, a stand-in folder <c>name:user/alice/…</c>) was never found; the raw
    /// segment is decoded here instead. The <c>~</c> + base64url form the officers' pages use is taken too.
    /// </summary>
    private static string RouteValue(HttpContext http, string name, string routed)
    {
        var value = RawSegment(http, name) ?? routed;
        return value.StartsWith('~') && Bonnie.Web.Search.ItemLinks.Decode(value) is { } decoded ? decoded : value;
    }

    private static string? RawSegment(HttpContext http, string name)
    {
        if (http.GetEndpoint() is not RouteEndpoint endpoint
            || http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget is not { Length: > 0 } target)
        {
            return null;
        }
        var index = endpoint.RoutePattern.PathSegments.ToList().FindIndex(s =>
            s.Parts is [Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p] && string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        var query = target.IndexOf('?', StringComparison.Ordinal);
        var segments = (query < 0 ? target : target[..query]).TrimStart('/').Split('/');
        // Counted from the end: a path base in front of the application shifts the start, not the route's own segments.
        var offset = segments.Length - endpoint.RoutePattern.PathSegments.Count;
        if (index < 0 || offset < 0)
        {
            return null;
        }
        try
        {
            return Uri.UnescapeDataString(segments[offset + index]);
        }
        catch (UriFormatException)
        {
            return null;
        }
    }

    /// <summary>A yes/no parameter: <c>true</c> or <c>false</c>; absent or empty is false.</summary>
    public static bool Flag(string name, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        return bool.TryParse(text, out var value)
            ? value
            : throw new ApiInputException($"{name} must be true or false, not '{Shorten(text)}'.", "true or false");
    }

    /// <summary>The body as <typeparamref name="T"/>; a body that is not JSON, or not that shape, is refused with the reader's reason.</summary>
    public static async Task<T> JsonBodyAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        // Only JSON is read: a cross-site form cannot send that content type without the browser asking first.
        if (!request.HasJsonContentType())
        {
            throw new ApiInputException("The body must be JSON, sent with Content-Type: application/json.", "a JSON body",
                StatusCodes.Status415UnsupportedMediaType);
        }
        try
        {
            return await request.ReadFromJsonAsync<T>(StrictBody, cancellationToken)
                ?? throw new ApiInputException("The body must be a JSON object, not null.", "a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ApiInputException(DescribeBodyError(ex), "a JSON object with the fields the README lists");
        }
    }

    // A field the API does not know is refused, not ignored: a misspelled "dryRun" ("dry_run") would otherwise start
    // a real restore. A field given twice is refused too (which one was meant cannot be known).
    private static readonly JsonSerializerOptions StrictBody = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
    };

    /// <summary>What is wrong with the body, in the API's words: the field by its JSON name, never a .NET type's.</summary>
    internal static string DescribeBodyError(JsonException ex)
    {
        var message = ex.Message;
        var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        if (message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal) && Quoted(message) is { } unknown)
        {
            return $"The body has a field this endpoint does not take: '{Shorten(unknown)}'. Check its name against the README; nothing was done.";
        }
        if (message.Contains("Duplicate", StringComparison.OrdinalIgnoreCase))
        {
            var twice = field ?? Quoted(message);
            return $"The body gives {(twice is null ? "a field" : $"'{Shorten(twice)}'")} more than once; nothing was done.";
        }
        if (field is null && ex.Path == "$" && message.Contains("could not be converted", StringComparison.Ordinal))
        {
            // Valid JSON of another kind (an array, a string, a number): "not valid JSON" sent the sender looking for a typo.
            return "The body must be a JSON object with the fields the README lists; it is valid JSON of another kind (an array, a string, a number); nothing was done.";
        }
        if (field is not null && message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return $"The body's field '{Shorten(field)}' does not have the expected form (see the README for what it takes); nothing was done.";
        }
        var line = ex.LineNumber is { } l ? $" (line {l + 1}, byte {ex.BytePositionInLine + 1})" : "";
        return $"The body is not a JSON object of the expected shape: it is not valid JSON{line}; nothing was done.";
    }

    private static string? Quoted(string message)
    {
        var start = message.IndexOf('\'');
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end > start ? message[(start + 1)..end] : null;
    }

    /// <summary>
    /// Answers a query that does not parse and a parameter or body refused here with one JSON shape,
    /// <c>{"error", "position", "expected"}</c> (position 0 when the problem is not in the query's text).
    /// </summary>
    public static TBuilder AnswerBadInput<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (QuerySyntaxException ex)
            {
                return Results.BadRequest(new QueryErrorDto(ex.Message, ex.Position, ex.Expected));
            }
            catch (ApiInputException ex)
            {
                return Results.Json(new QueryErrorDto(ex.Message, 0, ex.Expected), statusCode: ex.StatusCode);
            }
        });

    internal static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

/// <summary>A parameter or body the API refuses; the message names it and says what it takes.</summary>
internal sealed class ApiInputException : Exception
{
    public ApiInputException(string message, string expected, int statusCode = StatusCodes.Status400BadRequest)
        : base(message)
    {
        Expected = expected;
        StatusCode = statusCode;
    }

    public ApiInputException()
        : this("The request is not valid.", "a valid request")
    {
    }

    public ApiInputException(string message)
        : this(message, "a valid request")
    {
    }

    public ApiInputException(string message, Exception innerException)
        : base(message, innerException)
    {
        Expected = "a valid request";
    }

    public string Expected { get; }
    public int StatusCode { get; } = StatusCodes.Status400BadRequest;
}
