using System.Text.Json.Nodes;
using Bonnie.Shared.Events;
using Bonnie.Shared.Search;

namespace Bonnie.Elasticsearch;

/// <summary>
/// Translates a parsed query into the Query DSL over the events index. Values travel as JSON strings in term,
/// prefix and match queries, never as query-string syntax, so no input can change the query's shape. AND becomes
/// <c>bool.filter</c> (results are sorted by sequence, so scoring would be wasted work), OR <c>bool.should</c>,
/// NOT <c>bool.must_not</c>.
/// </summary>
/// <param name="folderIds">
/// For each <c>folder:</c> term, the ids of the folders that have or had that name (looked up in the aliases
/// index beforehand), so a folder is found by every name it has had, not only the one an event carried.
/// </param>
/// <param name="personIds">
/// For each exact <c>user:</c> term, the ids of the people who ever carried that name, so a person is found by
/// every name they have had.
/// </param>
internal sealed class EsQueryTranslator(
    IReadOnlyDictionary<KeywordNode, IReadOnlyList<string>>? folderIds = null,
    IReadOnlyDictionary<KeywordNode, IReadOnlyList<string>>? personIds = null)
{
    public JsonObject Translate(QueryNode node) => node switch
    {
        MatchAllNode => new JsonObject { ["match_all"] = new JsonObject() },
        AndNode a => Bool("filter", a.Children),
        OrNode o => Or(o.Children.Select(Translate)),
        NotNode n => new JsonObject { ["bool"] = new JsonObject { ["must_not"] = new JsonArray(Translate(n.Child)) } },
        EventTypeNode t => Term("type", t.Type.ToString()),
        KeywordNode { Field: KeywordField.Folder } k => Folder(k),
        KeywordNode { Field: KeywordField.User, IsPrefix: false } k => User(k),
        KeywordNode { Field: KeywordField.Flag, IsPrefix: false, Value: "\\seen" or "\\deleted" } k => ImpliedFlag(k),
        KeywordNode k => k.IsPrefix ? Prefix(Field(k.Field), k.Value) : Term(Field(k.Field), k.Value),
        TextNode t => Text(t),
        TimeRangeNode r => Range(r),
        _ => throw new NotSupportedException($"No Elasticsearch translation for {node.GetType().Name}."),
    };

    public static string Field(KeywordField field) => field switch
    {
        KeywordField.Event => "event",
        KeywordField.User => "user",
        KeywordField.Folder => "folders",
        KeywordField.MessageId => "message_ids",
        KeywordField.Session => "session",
        KeywordField.Ip => "ip",
        KeywordField.Flag => "flags",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    private JsonObject Bool(string occur, IEnumerable<QueryNode> children)
    {
        var list = new JsonArray();
        foreach (var c in children)
        {
            list.Add(Translate(c));
        }
        return new JsonObject { ["bool"] = new JsonObject { [occur] = list } };
    }

    private static JsonObject Or(IEnumerable<JsonObject> children)
    {
        var list = new JsonArray();
        foreach (var c in children)
        {
            list.Add(c);
        }
        return new JsonObject { ["bool"] = new JsonObject { ["should"] = list, ["minimum_should_match"] = 1 } };
    }

    private JsonObject Folder(KeywordNode k)
    {
        var byName = k.IsPrefix ? Prefix("folders", k.Value) : Term("folders", k.Value);
        if (folderIds is null || !folderIds.TryGetValue(k, out var ids) || ids.Count == 0)
        {
            return byName;
        }
        // One terms query takes at most index.max_terms_count values (65,536 by default): a name every user's folder
        // carries names more folders than that on a large installation, searched in several.
        var clauses = new List<JsonObject> { byName };
        foreach (var chunk in ids.Chunk(MaxTermsPerQuery))
        {
            var terms = new JsonArray();
            foreach (var id in chunk)
            {
                terms.Add(id.ToLowerInvariant());
            }
            clauses.Add(new JsonObject { ["terms"] = new JsonObject { ["folder_ids"] = terms } });
        }
        return Or(clauses);
    }

    /// <summary>The values one terms query is given at most: Elasticsearch's index.max_terms_count is 65,536 by default.</summary>
    internal const int MaxTermsPerQuery = 65_000;

    private JsonObject User(KeywordNode k)
    {
        var byName = Term("user", k.Value);
        if (personIds is null || !personIds.TryGetValue(k, out var ids) || ids.Count == 0)
        {
            return byName;
        }
        var terms = new JsonArray();
        foreach (var id in ids)
        {
            terms.Add(id);
        }
        return Or([byName, new JsonObject { ["terms"] = new JsonObject { ["person_id"] = terms } }]);
    }

    // Words a prefix stands for. Elasticsearch takes 50 unless told, so "c*" found far less than on the embedded
    // store, which takes every word; 1,000 stays well inside the clause limit of a query (indices.query.bool.max_clause_count).
    internal const int MaxPrefixExpansions = 1000;

    // Every word is a phrase, as on the embedded store (SqlQueryTranslator.FtsExpression): a word the analyzer splits
    // ("example.net", a run of Chinese characters) finds its parts next to each other in one field, not anywhere in it.
    private static JsonObject Text(TextNode t)
    {
        if (t.Field == TextField.Any)
        {
            var multi = new JsonObject
            {
                ["query"] = t.Text,
                ["fields"] = new JsonArray("subject", "from", "to", "body"),
                ["type"] = t.IsPrefix ? "phrase_prefix" : "phrase",
            };
            if (t.IsPrefix)
            {
                multi["max_expansions"] = MaxPrefixExpansions;
            }
            return new JsonObject { ["multi_match"] = multi };
        }
        var field = t.Field switch
        {
            TextField.Subject => "subject",
            TextField.From => "from",
            TextField.To => "to",
            _ => throw new ArgumentOutOfRangeException(nameof(t)),
        };
        return t.IsPrefix
            ? new JsonObject { ["match_phrase_prefix"] = new JsonObject { [field] = new JsonObject { ["query"] = t.Text, ["max_expansions"] = MaxPrefixExpansions } } }
            : new JsonObject { ["match_phrase"] = new JsonObject { [field] = new JsonObject { ["query"] = t.Text } } };
    }

    private static JsonObject Range(TimeRangeNode r)
    {
        var range = new JsonObject();
        if (r.From is { } from)
        {
            range["gte"] = EsDocuments.Date(from);
        }
        if (r.Until is { } until)
        {
            range["lt"] = EsDocuments.Date(until);
        }
        return range.Count == 0
            ? new JsonObject { ["match_all"] = new JsonObject() }
            : new JsonObject { ["range"] = new JsonObject { ["timestamp"] = range } };
    }

    /// <summary>
    /// A read is \Seen set and a trash \Deleted set, though Cyrus names neither flag. Events stored since this version
    /// carry the flag (StoreJobProcessor.FlagsOf); those stored before do not, and an index has no migration step as
    /// the embedded store has (its schema step 10): the event type stands in for the flag, so both find the same.
    /// </summary>
    private static JsonObject ImpliedFlag(KeywordNode k) =>
        Or([Term("flags", k.Value), Term("type", k.Value == "\\seen" ? nameof(EventType.MessageRead) : nameof(EventType.MessageTrash))]);

    public static JsonObject Term(string field, string value) => new() { ["term"] = new JsonObject { [field] = value } };

    public static JsonObject Prefix(string field, string value) => new() { ["prefix"] = new JsonObject { [field] = value } };
}
