using System.Text.Json.Nodes;

namespace Bonnie.Elasticsearch;

/// <summary>
/// Bonnie's indices (<c>&lt;prefix&gt;-events</c>, <c>-folders</c>, <c>-folder-aliases</c>, <c>-messages</c>, <c>-sessions</c>,
/// <c>-changes</c>, <c>-quarantine</c>, <c>-users</c>) and their explicit, strict mappings, installed as index templates.
/// Keyword fields officers search on are lower-cased by a normalizer, as the query parser lower-cases their values;
/// text fields share one analyzer (lower case, accents folded, like the embedded store's FTS5 tokenizer).
/// </summary>
internal sealed class IndexLayout(string prefix)
{
    public string Prefix { get; } = prefix;
    public string Events => Prefix + "-events";
    public string Folders => Prefix + "-folders";
    public string FolderAliases => Prefix + "-folder-aliases";
    public string Messages => Prefix + "-messages";
    public string Sessions => Prefix + "-sessions";
    public string Changes => Prefix + "-changes";
    public string Quarantine => Prefix + "-quarantine";
    public string Users => Prefix + "-users";
    public string People => Prefix + "-people";
    /// <summary>One document per (name, person): every login name and address a person carried.</summary>
    public string PersonNames => Prefix + "-person-names";

    public IEnumerable<(string Index, JsonObject Mappings)> All()
    {
        yield return (Events, EventMappings());
        yield return (Folders, Strict(new JsonObject
        {
            ["id"] = Keyword(),
            ["name"] = Lower(),
            ["exists"] = new JsonObject { ["type"] = "boolean" },
            // An ACL subject or the owner waiting for the directory: the re-resolution's work list.
            ["subjects_pending"] = new JsonObject { ["type"] = "boolean" },
            ["doc"] = Opaque(),
            ["written_by"] = WrittenBy(),
        }));
        yield return (FolderAliases, Strict(new JsonObject
        {
            ["alias"] = Lower(),
            ["folder_id"] = Keyword(),
        }));
        yield return (Messages, Strict(new JsonObject
        {
            ["key"] = Keyword(),
            ["message_id"] = Lower(),
            ["current_at"] = Keyword(),
            // Every place it ever was (a late MOVE finds its source) and the folders it is in now (a folder deletion).
            ["once_at"] = Keyword(),
            ["in_folders"] = Keyword(),
            ["doc"] = Opaque(),
            ["written_by"] = WrittenBy(),
        }));
        yield return (Sessions, Strict(new JsonObject
        {
            ["id"] = Keyword(),
            ["user"] = Lower(),
            ["started"] = Date(),
            ["doc"] = Opaque(),
            ["written_by"] = WrittenBy(),
        }));
        yield return (Changes, Strict(new JsonObject
        {
            ["kind"] = Keyword(),
            ["object_id"] = Keyword(),
            ["aspect"] = Keyword(),
            ["key"] = Keyword(),
            ["from"] = Keyword(),
            ["to"] = Keyword(),
            ["folder_id"] = Keyword(),
            ["folder_name"] = Keyword(),
            ["uid"] = new JsonObject { ["type"] = "long" },
            ["user"] = Keyword(),
            ["session"] = Keyword(),
            ["ip"] = Keyword(),
            ["service"] = Keyword(),
            ["at"] = Date(),
            ["event_id"] = Keyword(),
            ["event_seq"] = new JsonObject { ["type"] = "long" },
            ["ordinal"] = new JsonObject { ["type"] = "integer" },
            // When it was derived (commit time in ticks + position in the batch): the order a changelog chains in.
            ["recorded"] = new JsonObject { ["type"] = "long" },
        }));
        yield return (Quarantine, Strict(new JsonObject
        {
            ["sequence"] = new JsonObject { ["type"] = "long" },
            ["job_id"] = Keyword(),
            ["at"] = Date(),
            ["stage"] = Keyword(),
            ["reason"] = new JsonObject { ["type"] = "text" },
            ["raw_sha256"] = Keyword(),
            ["raw"] = Binary(),
        }));
        yield return (Users, Strict(new JsonObject
        {
            ["login"] = Lower(),
            ["first_seen"] = Date(),
        }));
        yield return (People, Strict(new JsonObject
        {
            ["id"] = Keyword(),
            ["display_name"] = Keyword(),
        }));
        yield return (PersonNames, Strict(new JsonObject
        {
            ["name"] = Lower(),
            ["person_id"] = Keyword(),
            // Epoch milliseconds: the upsert script keeps the min and max.
            ["first_seen"] = new JsonObject { ["type"] = "long" },
            ["last_seen"] = new JsonObject { ["type"] = "long" },
        }));
    }

    private static JsonObject EventMappings()
    {
        var m = Strict(new JsonObject
        {
            ["id"] = Keyword(),
            ["sequence"] = new JsonObject { ["type"] = "long" },
            ["arrival"] = new JsonObject { ["type"] = "long" },
            // Exact enum name for facets and event: terms; "event" the lower-cased one for prefixes (event:Message*).
            ["type"] = Keyword(),
            ["event"] = Lower(),
            ["name"] = Keyword(),
            ["timestamp"] = Date(),
            ["received"] = Date(),
            ["user"] = Lower(),
            ["identity_status"] = Keyword(),
            ["person_id"] = Keyword(),
            ["identity"] = Opaque(),
            ["service"] = Lower(),
            ["session"] = Lower(),
            ["ip"] = Lower(),
            ["folder_id"] = Keyword(),
            ["folder_name"] = Keyword(),
            ["folder_path"] = Keyword(),
            ["old_folder_id"] = Keyword(),
            ["old_folder_name"] = Keyword(),
            // What folder: terms match: ids of both folders, and every form of the names the event carried.
            ["folder_ids"] = Lower(),
            ["folders"] = Lower(),
            // Kept for reading back only. A scattered expunge's UID set runs past Lucene's 32,766-byte limit for one
            // value, which would refuse the whole event: above MaxKeywordChars it is ignored. (doc_values as before: an
            // existing index cannot change it, and ignore_above alone keeps such a set out of them.)
            ["uids"] = new JsonObject { ["type"] = "keyword", ["index"] = false, ["ignore_above"] = MaxKeywordChars },
            ["message_ids"] = Lower(),
            // The Message-IDs as Cyrus sent them, for reading back only: message_ids holds the searched form (lower case,
            // in angle brackets), and the API and the pages show an id as it is in the mail's header, as the embedded store does.
            ["message_ids_sent"] = new JsonObject { ["type"] = "keyword", ["index"] = false, ["doc_values"] = false },
            ["message_keys"] = Keyword(),
            ["subject"] = Text(),
            ["from"] = Text(),
            ["to"] = Text(),
            ["body"] = Text(),
            ["flags"] = Lower(),
            ["size"] = new JsonObject { ["type"] = "long" },
            ["payload_status"] = Keyword(),
            ["payload_sha256"] = Keyword(),
            ["raw_sha256"] = Keyword(),
            ["raw"] = Binary(),
            ["written_by"] = WrittenBy(),
        });
        // The body stays in _source although the payload is the evidence: an update (an event's identity resolved, its
        // feed position given again) indexes the document anew from _source, and a body left out of it would silently
        // drop out of the full text.
        return m;
    }

    public static JsonObject Settings() => new()
    {
        ["analysis"] = new JsonObject
        {
            ["normalizer"] = new JsonObject
            {
                ["bonnie_lowercase"] = new JsonObject { ["type"] = "custom", ["filter"] = new JsonArray("lowercase") },
            },
            // Words are what FTS5's unicode61 tokenizer takes them to be: runs of letters and digits. The standard
            // tokenizer keeps "example.net" and "o'brien" whole, so "from:example" or "brien" found mail on the
            // embedded store and nothing here. (Applies to indices created from now on; existing ones keep theirs.)
            ["tokenizer"] = new JsonObject
            {
                ["bonnie_words"] = new JsonObject { ["type"] = "pattern", ["pattern"] = "[^\\p{L}\\p{N}\\p{Co}]+" },
            },
            // Chinese and Japanese are written without spaces: each of their characters is made a word of its own, as
            // the embedded store does (UnspacedScripts), so a word inside a sentence is found as the phrase of its
            // characters. Before, a whole sentence was one word.
            ["char_filter"] = new JsonObject
            {
                ["bonnie_unspaced"] = new JsonObject
                {
                    ["type"] = "pattern_replace",
                    ["pattern"] = "([\\p{IsHan}\\p{IsHiragana}\\p{IsKatakana}])",
                    ["replacement"] = " $1 ",
                },
            },
            ["analyzer"] = new JsonObject
            {
                ["bonnie_text"] = new JsonObject
                {
                    ["type"] = "custom",
                    ["char_filter"] = new JsonArray("bonnie_unspaced"),
                    ["tokenizer"] = "bonnie_words",
                    ["filter"] = new JsonArray("lowercase", "asciifolding", "bonnie_long_words"),
                },
            },
            // Lucene refuses a document holding one token of more than 32,766 bytes ("immense term"), and a mail can hold
            // a word that long (base64 without line breaks). Cut after folding (which can lengthen a word), at 8,000
            // characters of at most 4 bytes each; the query's words are cut the same way, so they still match.
            ["filter"] = new JsonObject
            {
                ["bonnie_long_words"] = new JsonObject { ["type"] = "truncate", ["length"] = 8000 },
            },
        },
    };

    public static JsonObject Template(string index, JsonObject mappings) => new()
    {
        ["index_patterns"] = new JsonArray(index),
        // Above the built-in templates (priority 100 and below), so ours decide for our indices.
        ["priority"] = 500,
        ["template"] = new JsonObject
        {
            ["settings"] = Settings(),
            ["mappings"] = mappings.DeepClone(),
        },
        ["_meta"] = new JsonObject { ["managed_by"] = "bonnie" },
    };

    private static JsonObject Strict(JsonObject properties) => new() { ["dynamic"] = "strict", ["properties"] = properties };

    /// <summary>
    /// Longer keyword values are kept in _source but not indexed: Lucene refuses a whole document holding a value over
    /// 32,766 bytes, and 8,191 characters of at most 4 bytes each stay under it. Senders choose Message-IDs and
    /// subjects; a hostile one must not keep its event out of the store.
    /// </summary>
    internal const int MaxKeywordChars = 8191;

    private static JsonObject Keyword() => new() { ["type"] = "keyword", ["ignore_above"] = MaxKeywordChars };

    private static JsonObject Lower() => new() { ["type"] = "keyword", ["normalizer"] = "bonnie_lowercase", ["ignore_above"] = MaxKeywordChars };

    // Which commit wrote the document: a bulk request sent again after its answer was lost meets its own earlier write
    // (409), which this tells apart from another writer's. Read back only.
    private static JsonObject WrittenBy() => new() { ["type"] = "keyword", ["index"] = false, ["doc_values"] = false };

    private static JsonObject Text() => new() { ["type"] = "text", ["analyzer"] = "bonnie_text" };

    private static JsonObject Date() => new() { ["type"] = "date", ["format"] = "strict_date_optional_time||epoch_millis" };

    private static JsonObject Binary() => new() { ["type"] = "binary" };

    // Stored in _source for reading back, never indexed: the object's full state as the store contract defines it.
    private static JsonObject Opaque() => new() { ["type"] = "object", ["enabled"] = false };
}
