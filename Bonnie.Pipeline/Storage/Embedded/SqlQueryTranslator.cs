using System.Globalization;
using System.Text;
using Bonnie.Shared.Search;

namespace Bonnie.Pipeline.Storage.Embedded;

/// <summary>
/// Translates a parsed query into a SQL predicate over <c>events e</c>. Every value travels as a parameter; text
/// goes to FTS5 only as quoted strings, so no input can change the statement or the FTS5 expression's shape.
/// </summary>
internal sealed class SqlQueryTranslator
{
    private readonly List<KeyValuePair<string, object>> _parameters = [];

    public IReadOnlyList<KeyValuePair<string, object>> Parameters => _parameters;

    public string Parameter(object value)
    {
        var name = "$p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add(new(name, value));
        return name;
    }

    /// <summary>
    /// Words to look up event by event (FTS5 by rowid) rather than as the list of every event holding them: a small
    /// driver beside a very common word (SearchAsync decides).
    /// </summary>
    public HashSet<QueryNode> LookedUpPerEvent { get; } = new(ReferenceEqualityComparer.Instance);

    public string Translate(QueryNode node) => node switch
    {
        _ when LookedUpPerEvent.Contains(node) && TextAlternatives(node) is { } perEvent => TextOfThisEvent(perEvent),
        MatchAllNode => "1",
        AndNode a => "(" + string.Join(" AND ", a.Children.Select(Translate)) + ")",
        // Words or phrases as alternatives ("contract OR agreement"): one FTS5 expression, one list of events. Two lists
        // joined by OR made SQLite test every event against both: 223 ms against 6 ms over a million events.
        OrNode o when TextAlternatives(o) is { } texts => TextMatch(texts),
        OrNode o => "(" + string.Join(" OR ", o.Children.Select(Translate)) + ")",
        // An event of a type that never carries text cannot contain the word: the type is in the narrow index, so
        // such events (logins, flags, folders: most of the store) are kept without the list of every event the word
        // matches ever being built. That list is long once bodies are indexed (SQLite builds it on first use).
        NotNode { Child: TextNode t } =>
            $"(e.type NOT IN (SELECT type FROM text_types) OR e.seq NOT IN (SELECT rowid FROM {FtsTable(t)} WHERE {FtsTable(t)} MATCH {Parameter(FtsExpression(t))}))",
        // SQL's NULL is neither true nor false: "NOT folder:X" would leave out every event without a folder (a login),
        // "NOT user:x" every event without a user. An officer means "all but X", as Elasticsearch's must_not does.
        NotNode n => "NOT coalesce(" + Translate(n.Child) + ", 0)",
        EventTypeNode t => $"e.type = {Parameter(t.Type.ToString())}",
        // A login name also names a person: every event of whoever ever carried it, under any of their names.
        KeywordNode { IsPrefix: false, Field: KeywordField.User } k => UserOrPerson(k.Value),
        KeywordNode { IsPrefix: false } k => $"EXISTS(SELECT 1 FROM event_terms t WHERE t.term = {Parameter(EventTerms.For(k.Field) + k.Value)} AND t.seq = e.seq)",
        // Single-valued fields: a prefix is a range on the row's own column, no index walk per row. SQLite's lower()
        // folds ASCII letters only, so a prefix with other letters (user:ém*) walks the terms, lower-cased at ingest
        // as the query is.
        KeywordNode { Field: KeywordField.User } k when !Ascii.IsValid(k.Value) => PrefixTerm(EventTerms.For(k.Field) + k.Value),
        KeywordNode { Field: KeywordField.User } k => ColumnPrefix("lower(e.user)", k.Value),
        KeywordNode { Field: KeywordField.Session } k => ColumnPrefix("lower(e.session)", k.Value),
        KeywordNode { Field: KeywordField.Ip } k => ColumnPrefix("lower(e.ip)", k.Value),
        KeywordNode k => PrefixTerm(EventTerms.For(k.Field) + k.Value),
        // Listed once per query: FTS5 evaluates the whole expression even when asked about a single rowid.
        TextNode t => TextMatch([t]),
        TimeRangeNode r => TimeRange(r),
        FolderIdNode f => FolderId(f),
        FolderAliasNode f => FolderAlias(f),
        _ => throw new NotSupportedException($"No SQL translation for {node.GetType().Name}."),
    };

    private string TextMatch(IReadOnlyList<TextNode> texts)
    {
        var table = FtsTable(texts[0]);
        // "+": a filter of the driver's events, never a list SQLite walks instead of the driver (it did, through
        // e.seq = d.seq: one user's 974 events beside "report" probed the term index for each of 781,343 words' events,
        // 336 ms against 115). When the words are fewer than the driver's events, they are the driver (SearchAsync).
        return $"+e.seq IN (SELECT rowid FROM {table} WHERE {table} MATCH {Parameter(FtsExpression(texts))})";
    }

    private string TextOfThisEvent(IReadOnlyList<TextNode> texts)
    {
        var table = FtsTable(texts[0]);
        return $"EXISTS(SELECT 1 FROM {table} WHERE {table} MATCH {Parameter(FtsExpression(texts))} AND rowid = e.seq)";
    }

    /// <summary>
    /// The text terms a node stands for when it is one, or alternatives of them (however nested) read from the same
    /// full-text table; null otherwise (an alternative of another kind, or of words and field terms, which live in two
    /// tables).
    /// </summary>
    public static IReadOnlyList<TextNode>? TextAlternatives(QueryNode node)
    {
        switch (node)
        {
            case TextNode t:
                return [t];
            case OrNode o:
                var all = new List<TextNode>();
                foreach (var child in o.Children)
                {
                    if (TextAlternatives(child) is not { } texts)
                    {
                        return null;
                    }
                    all.AddRange(texts);
                }
                return all.Count > 0 && all.All(t => FtsTable(t) == FtsTable(all[0])) ? all : null;
            default:
                return null;
        }
    }

    /// <summary>One FTS5 expression matching any of <paramref name="texts"/> (all of one table).</summary>
    public static string FtsExpression(IReadOnlyList<TextNode> texts)
        => texts.Count == 1 ? FtsExpression(texts[0]) : string.Join(" OR ", texts.Select(t => "(" + FtsExpression(t) + ")"));

    private string UserOrPerson(string name)
    {
        var p = Parameter(name);
        // The row's own column where SQLite's ASCII-only lower() agrees with the query's lower-casing; else the term.
        var login = Ascii.IsValid(name)
            ? $"lower(e.user) = {p}"
            : $"EXISTS(SELECT 1 FROM event_terms t WHERE t.term = {Parameter(EventTerms.For(KeywordField.User) + name)} AND t.seq = e.seq)";
        return $"({login} OR e.person_id IN (SELECT n.person_id FROM person_names n WHERE n.name = {p}))";
    }

    private string FolderId(FolderIdNode f)
    {
        var id = Parameter(f.Id);
        return $"(e.folder_id = {id} OR e.old_folder_id = {id})";
    }

    private string FolderAlias(FolderAliasNode f)
    {
        // Every folder that has or had the name (or a name under the prefix), however many: SQLite builds the list once.
        var folders = $"SELECT folder_id FROM folder_aliases WHERE {AliasCondition(f.IsPrefix, Parameter(f.Alias), f.IsPrefix ? Parameter(PrefixEnd(f.Alias)) : "")}";
        return $"(e.folder_id IN ({folders}) OR e.old_folder_id IN ({folders}))";
    }

    /// <summary>
    /// The first text after every text that starts with <paramref name="prefix"/>: the prefix with its last character
    /// one higher. SQLite compares text by its UTF-8 bytes, in code point order, so the earlier bound, the prefix
    /// followed by U+FFFF, left out every value whose next character is above it: an emoji, a rarer Chinese character
    /// (a review found <c>folder:alpha*</c> missing <c>INBOX/Alpha😀</c>).
    /// </summary>
    public static string PrefixEnd(string prefix)
    {
        var runes = prefix.EnumerateRunes().ToList();
        while (runes.Count > 0)
        {
            var next = runes[^1].Value + 1;
            if (next == 0xD800)
            {
                // Surrogates are not characters: the one after U+D7FF is U+E000.
                next = 0xE000;
            }
            if (next <= 0x10FFFF)
            {
                runes[^1] = new Rune(next);
                return string.Concat(runes.Select(r => r.ToString()));
            }
            // The last possible character cannot be raised: the one before it is.
            runes.RemoveAt(runes.Count - 1);
        }
        // Nothing but U+10FFFF (a noncharacter no name holds; a prefix is never empty): what follows it with one more.
        return prefix + char.ConvertFromUtf32(0x10FFFF);
    }

    /// <summary>The folder_aliases rows of a folder name, or of every name in [<paramref name="lo"/>, <paramref name="hi"/>) for a prefix.</summary>
    public static string AliasCondition(bool isPrefix, string lo, string hi) => isPrefix ? $"alias >= {lo} AND alias < {hi}" : $"alias = {lo}";

    private string ColumnPrefix(string column, string prefix)
        => $"({column} >= {Parameter(prefix)} AND {column} < {Parameter(PrefixEnd(prefix))})";

    private string PrefixTerm(string prefix)
    {
        // The range [prefix, PrefixEnd(prefix)) holds every term starting with prefix.
        var lo = Parameter(prefix);
        var hi = Parameter(PrefixEnd(prefix));
        return $"e.seq IN (SELECT seq FROM event_terms WHERE term >= {lo} AND term < {hi})";
    }

    private string TimeRange(TimeRangeNode r)
    {
        var parts = new List<string>();
        if (r.From is { } from)
        {
            parts.Add($"e.seq >= {Parameter(SequenceAt(from))}");
        }
        if (r.Until is { } until)
        {
            parts.Add($"e.seq < {Parameter(SequenceAt(until))}");
        }
        return parts.Count == 0 ? "1" : "(" + string.Join(" AND ", parts) + ")";
    }

    public static long SequenceAt(DateTimeOffset t) => t.ToUnixTimeMilliseconds() * EmbeddedStore.SequencePerMillisecond;

    /// <summary>
    /// The FTS5 table a text term is looked up in. A term of one field reads <c>fields_fts</c>, which holds the
    /// subject and addresses only: in <c>events_fts</c> every word's list also runs through every message body that
    /// holds it, and FTS5 reads a word's whole list whatever column the term asks for (a subject phrase of one user
    /// took 148 ms at p95 over a million events with bodies, 23 ms without).
    /// </summary>
    public static string FtsTable(TextNode t) => t.Field == TextField.Any ? "events_fts" : "fields_fts";

    /// <summary>
    /// The FTS5 expression for a text term: always a quoted phrase. The text has a letter or digit (TextNode holds
    /// that); should FTS5's tokenizer still find no token in it (it knows fewer letters than .NET does), the phrase is
    /// empty and FTS5 matches nothing, without an error, as Elasticsearch does for a match with no terms.
    /// </summary>
    public static string FtsExpression(TextNode t)
    {
        var column = t.Field switch
        {
            TextField.Subject => "subject",
            TextField.From => "sender",
            TextField.To => "recipients",
            _ => null,
        };
        var sb = new StringBuilder();
        if (column is not null)
        {
            sb.Append('{').Append(column).Append("} : ");
        }
        var spaced = UnspacedScripts.Spaced(t.Text)!;
        if (ReferenceEquals(spaced, t.Text))
        {
            Phrase(sb, t.Text, t.IsPrefix);
            return sb.ToString();
        }
        // Chinese or Japanese: the phrase of its characters, as they are indexed now, or the text as one word, as events
        // stored before that were indexed (a whole run of such characters was one word then).
        sb.Append('(');
        Phrase(sb, spaced, t.IsPrefix);
        sb.Append(" OR ");
        Phrase(sb, t.Text, t.IsPrefix);
        sb.Append(')');
        return sb.ToString();
    }

    private static void Phrase(StringBuilder sb, string text, bool isPrefix)
    {
        sb.Append('"').Append(text.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        if (isPrefix)
        {
            sb.Append(" *");
        }
    }
}
