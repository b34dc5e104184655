using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Bonnie.Elasticsearch.Tests;

/// <summary>
/// What a real Elasticsearch 9 refuses before it looks at what a request means, so that the fake cluster refuses it
/// too: a test scripting the answer cannot hide a request the cluster would never take.
/// </summary>
internal static partial class FakeValidation
{
    // Lucene's limit for one term (IndexWriter.MAX_TERM_LENGTH).
    private const int MaxTermBytes = 32_766;
    // Elasticsearch's limit for a document id (IndexRequest.validate).
    private const int MaxIdBytes = 512;

    public static FakeResponse? Refuse(FakeRequest request, IReadOnlyDictionary<string, JsonObject> templates)
        => MediaTypes(request) ?? (request.Path == "_bulk" ? Bulk(request, templates) : null);

    /// <summary>RestCompatibleVersionHelper: a compatible version asked in Accept must be named in Content-Type too, and the same.</summary>
    private static FakeResponse? MediaTypes(FakeRequest request)
    {
        if (request.Body.Length == 0)
        {
            return null;
        }
        var accept = Version(request.Accept);
        var content = Version(request.ContentType);
        if (accept == content)
        {
            return null;
        }
        return Error(400, "media_type_header_exception",
            "Invalid media-type value on headers [Accept, Content-Type]: A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match.");
    }

    private static string? Version(string mediaType)
    {
        var match = CompatibleWith().Match(mediaType);
        return match.Success ? match.Groups[1].Value : null;
    }

    private static FakeResponse? Bulk(FakeRequest request, IReadOnlyDictionary<string, JsonObject> templates)
    {
        var lines = request.Lines;
        var items = new JsonArray();
        var immense = false;
        for (var i = 0; i < lines.Count; i++)
        {
            var (action, meta) = (lines[i].First().Key, lines[i].First().Value!.AsObject());
            var id = meta["_id"]?.GetValue<string>() ?? "";
            if (Encoding.UTF8.GetByteCount(id) > MaxIdBytes)
            {
                // BulkRequest.validate: one item's id refuses the whole request.
                return Error(400, "action_request_validation_exception",
                    $"Validation Failed: 1: id [{id[..20]}...] is too long, must be no longer than 512 bytes but was: {Encoding.UTF8.GetByteCount(id)};");
            }
            var index = meta["_index"]?.GetValue<string>() ?? "";
            JsonObject? source = null;
            if (action is "index" or "create" or "update")
            {
                source = lines[++i];
                if (action == "update")
                {
                    source = source["doc"] as JsonObject;
                }
            }
            var term = source is not null && templates.TryGetValue(index, out var template) ? ImmenseTerm(source, template) : null;
            immense |= term is not null;
            items.Add(new JsonObject
            {
                [action] = term is null
                    ? new JsonObject { ["_index"] = index, ["_id"] = id, ["status"] = action == "create" ? 201 : 200 }
                    : new JsonObject
                    {
                        ["_index"] = index, ["_id"] = id, ["status"] = 400,
                        ["error"] = new JsonObject
                        {
                            ["type"] = "illegal_argument_exception",
                            ["reason"] = $"Document contains at least one immense term in field=\"{term}\" (whose UTF8 encoding is longer than the max length 32766), all of which were skipped.",
                        },
                    },
            });
        }
        // Only a request the cluster would partly refuse is answered here; every other one is the test's to answer.
        return immense ? new FakeResponse(200, new JsonObject { ["took"] = 1, ["errors"] = true, ["items"] = items }.ToJsonString()) : null;
    }

    /// <summary>The first field of the document whose value makes a term over Lucene's limit under the index template's mappings.</summary>
    private static string? ImmenseTerm(JsonObject source, JsonObject template)
    {
        var properties = template["mappings"]?["properties"] as JsonObject;
        var filters = template["settings"]?["analysis"]?["filter"] as JsonObject;
        var analyzers = template["settings"]?["analysis"]?["analyzer"] as JsonObject;
        foreach (var (field, value) in source)
        {
            if (properties?[field] is not JsonObject mapping || value is null)
            {
                continue;
            }
            var values = value is JsonArray a ? a.Select(v => v?.ToString() ?? "") : [value.ToString()];
            foreach (var v in values)
            {
                if (mapping["type"]?.GetValue<string>() == "keyword" && Keyword(mapping, v) || mapping["type"]?.GetValue<string>() == "text" && Text(mapping, analyzers, filters, v))
                {
                    return field;
                }
            }
        }
        return null;
    }

    // KeywordFieldMapper: a value above ignore_above is left out; otherwise it is a term (postings or doc values).
    private static bool Keyword(JsonObject mapping, string value)
    {
        if (mapping["ignore_above"] is JsonValue above && value.Length > above.GetValue<int>())
        {
            return false;
        }
        var indexed = mapping["index"]?.GetValue<bool>() != false || mapping["doc_values"]?.GetValue<bool>() != false;
        return indexed && Encoding.UTF8.GetByteCount(value) > MaxTermBytes;
    }

    // A word (letters and digits, as the store's tokenizer takes them) over the limit, unless the analyzer cuts words short enough.
    private static bool Text(JsonObject mapping, JsonObject? analyzers, JsonObject? filters, string value)
    {
        var analyzer = mapping["analyzer"]?.GetValue<string>();
        var chain = analyzer is not null ? analyzers?[analyzer]?["filter"] as JsonArray : null;
        var cut = chain?.Select(f => filters?[f!.GetValue<string>()]).OfType<JsonObject>()
            .Where(f => f["type"]?.GetValue<string>() == "truncate").Select(f => f["length"]!.GetValue<int>()).DefaultIfEmpty(int.MaxValue).Min() ?? int.MaxValue;
        return Word().Matches(value).Any(w => Encoding.UTF8.GetByteCount(w.Value[..Math.Min(w.Value.Length, cut)]) > MaxTermBytes);
    }

    private static FakeResponse Error(int status, string type, string reason)
        => new(status, new JsonObject { ["error"] = new JsonObject { ["type"] = type, ["reason"] = reason }, ["status"] = status }.ToJsonString());

    [GeneratedRegex(@"compatible-with=(\d+)")]
    private static partial Regex CompatibleWith();

    [GeneratedRegex(@"[\p{L}\p{N}\p{Co}]+")]
    private static partial Regex Word();
}
