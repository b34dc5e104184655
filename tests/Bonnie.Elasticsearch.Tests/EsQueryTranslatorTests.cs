using System.Text.Json.Nodes;
using Bonnie.Shared.Search;

namespace Bonnie.Elasticsearch.Tests;

public sealed class EsQueryTranslatorTests
{
    private static JsonObject Translate(string q) => new EsQueryTranslator().Translate(QueryParser.Parse(q).Root);

    [Fact]
    public void Translate_HostileText_TravelsAsPlainValueNeverQuerySyntax()
    {
        var json = Translate("\"' OR 1=1; DROP TABLE events; --\" user:\"a OR b\" folder:x'||'y").ToJsonString();

        Assert.DoesNotContain("query_string", json, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"phrase\"", json, StringComparison.Ordinal);
        Assert.Contains("\"term\":{\"user\":\"a or b\"}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Translate_EventTypeAndPrefixes_ExactTypeAndLowerCasedPrefix()
    {
        var json = Translate("event:vnd.cmu.MessageMove ip:10.0.* sort:oldest");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            { "bool": { "filter": [ { "term": { "type": "MessageMove" } }, { "prefix": { "ip": "10.0." } } ] } }
            """), json), json.ToJsonString());
    }

    // A read is \Seen set and a trash \Deleted set; events indexed before they carried the flag are found by their type,
    // as the embedded store's migration finds them (there is no migration of an index).
    [Theory]
    [InlineData("flag:\\Seen", "\\seen", "MessageRead")]
    [InlineData("flag:\\Deleted", "\\deleted", "MessageTrash")]
    public void Translate_SeenOrDeleted_TheFlagOrTheEventThatSetsIt(string q, string flag, string type)
    {
        var json = Translate(q).ToJsonString();

        Assert.Contains($"{{\"term\":{{\"flags\":{System.Text.Json.JsonSerializer.Serialize(flag)}}}}}", json, StringComparison.Ordinal);
        Assert.Contains($"{{\"term\":{{\"type\":\"{type}\"}}}}", json, StringComparison.Ordinal);
        Assert.DoesNotContain("MessageRead", Translate("flag:\\Flagged").ToJsonString(), StringComparison.Ordinal);
    }

    // Documents hold the ids as QueryParser.NormalizeKeyword writes them ("<id>"), so each shape typed meets them.
    [Theory]
    [InlineData("messageid:750.39250@example.org", "term", "<750.39250@example.org>")]
    [InlineData("messageid:<750.39250@example.org>", "term", "<750.39250@example.org>")]
    [InlineData("messageid:<750.39250@example.org", "term", "<750.39250@example.org>")]
    [InlineData("messageid:<750.3925*", "prefix", "<750.3925")]
    public void Translate_MessageId_TheStoredFormOfTheId(string q, string query, string value)
    {
        var json = Translate(q);

        Assert.True(JsonNode.DeepEquals(new JsonObject { [query] = new JsonObject { ["message_ids"] = value } }, json), json.ToJsonString());
    }

    [Fact]
    public void Translate_OnDay_HalfOpenRangeOverTheDay()
    {
        var json = Translate("on:2026-12-01");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            { "range": { "timestamp": { "gte": "2026-12-01T00:00:00.000Z", "lt": "2026-12-02T00:00:00.000Z" } } }
            """), json), json.ToJsonString());
    }

    // As on the embedded store, a word the analyzer splits finds its parts next to each other, not anywhere in a field.
    [Theory]
    [InlineData("example.net", "multi_match")]
    [InlineData("from:example.net", "match_phrase")]
    public void Translate_WordTheAnalyzerSplits_APhrase(string q, string query)
    {
        var json = Translate(q);

        Assert.True(json.ContainsKey(query), json.ToJsonString());
        if (query == "multi_match")
        {
            Assert.Equal("phrase", json[query]!["type"]!.GetValue<string>());
            Assert.Null(json[query]!["operator"]);
        }
    }
}
