using System.Globalization;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Extensions.Logging;

namespace Bonnie.Web.Search;

/// <summary>
/// Why a query matches nothing, term by term: each term the query asks for is counted alone, and the ones that match
/// no event at all are named. "0 events match" alone could not tell a misspelt folder (<c>folder:Archve</c>) from a
/// real absence, and an officer could report "nothing found" over a typing mistake (a review).
/// </summary>
internal static class NoMatchExplanation
{
    /// <summary>Terms counted at most: each is a count of its own in the store.</summary>
    public const int MostTerms = 6;

    /// <summary>
    /// One term the query asks for, as it can be typed again, and whether it matches any event alone; null when the
    /// store could not count it (its time limit, an error).
    /// </summary>
    public sealed record Term(string Text, QueryNode Node, bool? MatchesAlone)
    {
        /// <summary>A term with a name near this one's that matches events (<c>folder:Archive</c> for <c>folder:Archve</c>).</summary>
        public string? Near { get; init; }

        /// <summary>The query with this term replaced by <see cref="Near"/>.</summary>
        public string? NearQuery { get; init; }

        /// <summary>What the page says of a term that matches nothing alone, in an officer's words.</summary>
        public string Why => Spelled(Node) switch
        {
            KeywordNode { Field: KeywordField.Folder, IsPrefix: false } =>
                $"No event in a folder called “{Value}” is stored: folder: takes a folder's full name (user/alice/Archive@example.org), the name its owner sees (Archive, INBOX/Archive), its last part, or its unique id.",
            KeywordNode { Field: KeywordField.User, IsPrefix: false } =>
                $"No event of the user “{Value}” is stored.",
            TimeRangeNode r => $"No event is stored {Range(r)}.",
            _ => $"{Text} alone matches no event.",
        };

        /// <summary>The value of a <c>field:value</c> term as typed, without its quotes.</summary>
        internal string Value
        {
            get
            {
                var value = Text[(Text.IndexOf(':', StringComparison.Ordinal) + 1)..];
                return value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? System.Text.RegularExpressions.Regex.Replace(value[1..^1], @"\\(.)", "$1") : value;
            }
        }
    }

    /// <summary>
    /// The terms counted; whether the query had more than were counted; the terms it excludes, as typed; and whether it
    /// only joins its terms with AND (then they must all match together). Made once, when the query is explained: the
    /// page reads them at every render.
    /// </summary>
    public sealed record Explanation(IReadOnlyList<Term> Terms, bool MoreNotCounted, IReadOnlyList<string> Excluded, bool OnlyAnd)
    {
        /// <summary>
        /// Whether there is anything to say: not when a lone term matches alone and nothing is excluded (the store changed
        /// between the two counts).
        /// </summary>
        public bool SaysAnything => Terms.Count > 1 || Excluded.Count > 0 || MoreNotCounted || Terms.Any(t => t.MatchesAlone != true);

        /// <summary>What leaves nothing when every term counted matches alone, in an officer's words.</summary>
        public string Together
        {
            get
            {
                if (MoreNotCounted)
                {
                    return $"Only the first {MostTerms} terms were counted; one of the others may match nothing.";
                }
                if (!OnlyAnd)
                {
                    return "No event matches them as the query combines them.";
                }
                if (Excluded.Count > 0)
                {
                    var excluded = string.Join(", ", Excluded);
                    return Terms.Count == 1
                        ? $"What the query excludes ({excluded}) leaves none of them."
                        : $"No event matches them together once the query's exclusions ({excluded}) are applied.";
                }
                // Two of a field an event has one of (two users, two types) say why in so many words; any others, in general.
                var clashes = Clashing(Terms);
                return clashes.Count == 0
                    ? "No event matches them all together."
                    : string.Join(" ", clashes.Select(c =>
                        $"An event has one {OneOf(c[0])}: {string.Join(" and ", c.Select(t => t.Text))} cannot all match the same event; for any of them, write ({string.Join(" OR ", c.Select(t => t.Text))})."));
            }
        }
    }

    /// <summary>
    /// The terms of <paramref name="query"/> an event must match, each counted alone; excluded terms (<c>NOT</c>) are
    /// left out: alone they match what the query keeps out, which says nothing of why it is empty. A term the store
    /// cannot count is said to be uncounted; the others are still counted.
    /// </summary>
    /// <remarks>
    /// Each is the store's total of one term: over a million events tens of milliseconds for one user or type, a
    /// quarter of a second for a term most events match (bench/README.md, "queries --facets none").
    /// </remarks>
    /// <param name="recordNear">Records a look for names near a term (its prefix term) before it is made: a read of the store.</param>
    public static async Task<Explanation> ExplainAsync(IBonnieStore store, ParsedQuery query, IReadOnlyList<(string Text, QueryNode Node)> counted, bool more,
        Func<string, Task> recordNear, ILogger logger, CancellationToken cancellationToken)
    {
        var terms = new List<Term>();
        var looked = 0;
        foreach (var (text, node) in counted)
        {
            var alone = new EventSearch { Query = new ParsedQuery(node, SortOrder.NewestFirst, text), Limit = 1 };
            Term term;
            try
            {
                var page = await OffCircuit.Read(() => store.SearchEventsAsync(alone, cancellationToken), cancellationToken);
                term = new Term(text, node, page.Total > 0);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Could not count a term of a query that matched nothing");
                term = new Term(text, node, null);
            }
            if (term.MatchesAlone == false && looked < MostNearLooks)
            {
                try
                {
                    // A login without its domain is looked for at a domain first; found at none (a Cyrus without
                    // virtual domains names alice, not alice@…), it may still be a slip of one.
                    foreach (var atADomain in (bool[])[true, false])
                    {
                        if (term.Near is null && looked < MostNearLooks && NearSearch(term, atADomain) is { } near)
                        {
                            looked++;
                            await recordNear(near.Text);
                            term = await WithNearAsync(store, query, term, near, cancellationToken);
                        }
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Only a suggestion (the look ran out of its time, or failed): the term is still said to match nothing.
                    logger.LogWarning(e, "Could not look for a name near a term that matches nothing");
                }
            }
            terms.Add(term);
        }
        return new Explanation(terms, more, Excluded(query), OnlyAnd(query.Root));
    }

    /// <summary>Looks for near names at most, per query: each reads every event under a prefix.</summary>
    public const int MostNearLooks = 2;

    /// <summary>
    /// How long one look for near names may take: a prefix most names share (every user's INBOX) reads a large part of
    /// the store, and a suggestion is not worth waiting for.
    /// </summary>
    public static readonly TimeSpan NearLookLimit = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The prefix search that finds names near a <c>folder:</c> or <c>user:</c> term's (its first half, at least three
    /// letters), with the facet that lists them; null for any other term, a value shorter than four, or a folder given
    /// by its path. From the value as parsed: quotes, escapes and spaces at its ends are the parser's business.
    /// </summary>
    /// <param name="atADomain">The look for a <c>user:</c> term without a domain at every domain (<c>user:alice@*</c>); null for any other term.</param>
    private static (string Text, ParsedQuery Query, Facets Facet, KeywordField Field, string Value, bool Domainless)? NearSearch(Term term, bool atADomain)
    {
        if (Spelled(term.Node) is not KeywordNode { IsPrefix: false, Field: KeywordField.Folder or KeywordField.User } k)
        {
            return null;
        }
        var value = UnicodeForms.Normalized(k.Value.Trim(), System.Text.NormalizationForm.FormC);
        // A login typed without its domain (user:alice where Cyrus names alice@example.org): a review met "no event of
        // the user" with nothing to go on. The logins that are that name at some domain are looked for instead.
        if (atADomain && (k.Field != KeywordField.User || value.Length == 0 || value.Contains('@', StringComparison.Ordinal)))
        {
            return null;
        }
        var domainless = atADomain;
        if (!domainless && (value.Length < 4 || (k.Field == KeywordField.Folder && value.Contains('/', StringComparison.Ordinal))))
        {
            return null;
        }
        // Half the name: enough to keep the names found few (every login of a domain starts with "user" in some), while a
        // slip in its second half is still found.
        var text = domainless
            ? $"{Field(k.Field)}:{KeywordValue(value + "@")}*"
            : $"{Field(k.Field)}:{KeywordValue(value[..Math.Max(3, value.Length / 2)])}*";
        try
        {
            return (text, QueryParser.Parse(text), k.Field == KeywordField.Folder ? Facets.Folder : Facets.User, k.Field, value, domainless);
        }
        catch (QuerySyntaxException)
        {
            return null;
        }
    }

    private static async Task<Term> WithNearAsync(IBonnieStore store, ParsedQuery query, Term term,
        (string Text, ParsedQuery Query, Facets Facet, KeywordField Field, string Value, bool Domainless) near, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(NearLookLimit);
        var search = new EventSearch { Query = near.Query, Limit = 1, Facets = near.Facet };
        var page = await OffCircuit.Read(() => store.SearchEventsAsync(search, limit.Token), limit.Token);
        var buckets = page.Facets.TryGetValue(near.Field == KeywordField.Folder ? "folder" : "user", out var found) ? found : [];
        var typed = near.Value.ToLowerInvariant();
        if (near.Domainless)
        {
            // The name at the domain with the most events: the user most likely meant (the facet lists the largest first).
            var login = buckets.Select(b => b.Value).FirstOrDefault(v => v.StartsWith(typed + "@", StringComparison.Ordinal));
            return login is null ? term : term with { Near = Field(near.Field) + ":" + KeywordValue(login), NearQuery = Replaced(query, term.Node, Field(near.Field) + ":" + KeywordValue(login)) };
        }
        // A slip of a letter or two: more in a short name would suggest another name altogether.
        var most = typed.Length < 6 ? 1 : 2;
        var best = buckets
            .SelectMany(b => (near.Field == KeywordField.Folder ? FolderNamesOf(b) : [b.Value]).Select(name => (Name: name, b.Count)))
            .Select(c => (c.Name, c.Count, Distance: Spelling.Distance(typed, UnicodeForms.Normalized(c.Name, System.Text.NormalizationForm.FormC).ToLowerInvariant())))
            .Where(c => c.Distance > 0 && c.Distance <= most)
            .OrderBy(c => c.Distance).ThenByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        if (best.Name is null)
        {
            return term;
        }
        var suggested = Field(near.Field) + ":" + KeywordValue(best.Name);
        return term with { Near = suggested, NearQuery = Replaced(query, term.Node, suggested) };
    }

    /// <summary>
    /// The names folder: finds a counted folder by, short ones first, in the case its name has where it can: its last part
    /// (<c>Archive</c>) or INBOX when that is one of the folder's aliases (FolderAliases), otherwise the aliases as they are.
    /// </summary>
    private static IEnumerable<string> FolderNamesOf(FacetCount bucket)
    {
        if (string.IsNullOrEmpty(bucket.Label))
        {
            yield break;
        }
        var aliases = FolderAliases.Of(bucket.Value, bucket.Label);
        var shortName = FolderShortName(bucket.Label);
        if (shortName is not null && aliases.Contains(shortName.ToLowerInvariant()))
        {
            yield return shortName;
        }
        foreach (var alias in aliases.Where(a => !string.Equals(a, bucket.Value, StringComparison.OrdinalIgnoreCase) && !a.Contains('/', StringComparison.Ordinal)))
        {
            yield return alias;
        }
    }

    /// <summary>
    /// The query with every place that asks for <paramref name="node"/> (typed once or more, in any case) given
    /// <paramref name="replacement"/> instead, from the end of the text back; null when a place cannot be found as typed.
    /// </summary>
    private static string? Replaced(ParsedQuery query, QueryNode node, string replacement)
    {
        var places = Wanted(query.Root).Where(w => SameTerm(w.Node, node))
            .Select(w => (At: w.Node.Position, Typed: Typed(query.Text, w.Node)))
            .DistinctBy(p => p.At)
            .OrderByDescending(p => p.At)
            .ToList();
        if (places.Count == 0 || places.Any(p => p.Typed is null))
        {
            return null;
        }
        var text = query.Text;
        foreach (var (at, typed) in places)
        {
            text = text[..at] + replacement + text[(at + typed!.Length)..];
        }
        return text;
    }

    /// <summary>The name an owner gives a folder: its last part (<c>Archive</c> of <c>user/alice/Archive@example.org</c>), INBOX for a user's own.</summary>
    private static string? FolderShortName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }
        if (FolderNames.IsUserInbox(name))
        {
            return "INBOX";
        }
        var at = name.LastIndexOf('@');
        var bare = at > 0 && name.IndexOf('/', at) < 0 ? name[..at] : name;
        return bare[(bare.LastIndexOf('/') + 1)..];
    }

    /// <summary>The terms <see cref="ExplainAsync"/> counts of <paramref name="query"/> (the first <see cref="MostTerms"/>), and whether it has more.</summary>
    /// <remarks>Each as the officer typed it (<c>folder:Archve</c>, not the lower case it is searched in), when that is the same term.</remarks>
    public static (IReadOnlyList<(string Text, QueryNode Node)> Counted, bool More) TermsOf(ParsedQuery query)
    {
        var wanted = Wanted(query.Root).DistinctBy(t => t.Text, StringComparer.Ordinal).ToList();
        return ([.. wanted.Take(MostTerms).Select(t => (Typed(query.Text, t.Node) ?? t.Text, t.Node))], wanted.Count > MostTerms);
    }

    /// <summary>The terms the query excludes (under <c>NOT</c> or <c>-</c>), as typed, to name them where they leave nothing.</summary>
    private static IReadOnlyList<string> Excluded(ParsedQuery query)
    {
        static IEnumerable<QueryNode> Of(QueryNode node) => node switch
        {
            NotNode n => Leaves(n.Child, intoNot: true),
            AndNode a => a.Children.SelectMany(Of),
            OrNode o => o.Children.SelectMany(Of),
            _ => [],
        };
        return [.. Of(query.Root).Select(n => Typed(query.Text, n) ?? TextOf(Spelled(n))).OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Terms side by side that no one event can match both of: an event has one type, one user, one session and one
    /// client address (a folder can be two: a move's source and destination; a message and flags several).
    /// </summary>
    private static IReadOnlyList<IReadOnlyList<Term>> Clashing(IReadOnlyList<Term> terms) =>
        [.. terms.Where(t => OneValued(t.Node) is not null).GroupBy(t => OneValued(t.Node)!.Value).Where(g => g.Count() > 1).Select(g => (IReadOnlyList<Term>)[.. g])];

    /// <summary>The one-valued field a plain (not prefix) term names; null for any other term.</summary>
    private static KeywordField? OneValued(QueryNode node) => node switch
    {
        EventTypeNode => KeywordField.Event,
        KeywordNode { IsPrefix: false, Field: KeywordField.User or KeywordField.Session or KeywordField.Ip } k => k.Field,
        OrNode o when IsOneSpelling(o) => OneValued(Spelled(o)),
        _ => null,
    };

    /// <summary>What one event has one of, for <see cref="Clashing"/>: "type", "user", ...</summary>
    private static string OneOf(Term term) => OneValued(term.Node) switch
    {
        KeywordField.Event => "type",
        KeywordField.User => "user",
        KeywordField.Session => "session",
        _ => "client address",
    };

    /// <summary>
    /// The term as it stands in the query's text from its position, when it reads back as the same term; null when it
    /// does not (the page then shows it as the parser holds it).
    /// </summary>
    internal static string? Typed(string text, QueryNode node)
    {
        var start = node.Position;
        if (start < 0 || start >= text.Length)
        {
            return null;
        }
        var end = start;
        var quoted = false;
        for (; end < text.Length; end++)
        {
            var c = text[end];
            if (quoted)
            {
                if (c == '\\')
                {
                    end++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (char.IsWhiteSpace(c) || c is '(' or ')')
            {
                break;
            }
        }
        var typed = text[start..Math.Min(end, text.Length)];
        try
        {
            return QueryParser.Parse(typed).Root is var root && SameTerm(root, node) ? typed : null;
        }
        catch (QuerySyntaxException)
        {
            return null;
        }
    }

    /// <summary>The same term wherever it was typed: records compare their lists by reference, and their positions differ.</summary>
    internal static bool SameTerm(QueryNode a, QueryNode b) => (a, b) switch
    {
        (OrNode x, OrNode y) => x.Children.Count == y.Children.Count && x.Children.Zip(y.Children).All(p => SameTerm(p.First, p.Second)),
        (AndNode or NotNode or OrNode, _) or (_, AndNode or NotNode or OrNode) => false,
        _ => a with { Position = 0 } == b with { Position = 0 },
    };

    /// <summary>Whether the query only joins terms with AND (and excludes some): then they must all match together.</summary>
    private static bool OnlyAnd(QueryNode node) => node switch
    {
        OrNode o => IsOneSpelling(o),
        AndNode a => a.Children.All(OnlyAnd),
        _ => true,
    };

    /// <summary>The leaves of the query outside any <c>NOT</c>, with the text that asks for each alone.</summary>
    internal static IEnumerable<(string Text, QueryNode Node)> Wanted(QueryNode node) =>
        Leaves(node, intoNot: false).Select(n => (Text: TextOf(Spelled(n)), Node: n)).Where(t => t.Text is not null).Select(t => (t.Text!, t.Node));

    /// <summary>
    /// The terms of a query, its ANDs and ORs walked through (its NOTs too when <paramref name="intoNot"/>). folder:müller
    /// is searched in both of its spellings (composed and decomposed): one term for the officer, counted as the query
    /// counts it, either spelling.
    /// </summary>
    private static IEnumerable<QueryNode> Leaves(QueryNode node, bool intoNot) => node switch
    {
        OrNode o when IsOneSpelling(o) => [o],
        AndNode a => a.Children.SelectMany(c => Leaves(c, intoNot)),
        OrNode o => o.Children.SelectMany(c => Leaves(c, intoNot)),
        NotNode n => intoNot ? Leaves(n.Child, intoNot) : [],
        MatchAllNode => [],
        _ => [node],
    };

    /// <summary>The OR the parser makes of one keyword typed with accents: the same field at the same place, twice.</summary>
    private static bool IsOneSpelling(OrNode o) =>
        o.Children is [KeywordNode first, KeywordNode second] && first.Field == second.Field && first.Position == second.Position
        && first.IsPrefix == second.IsPrefix;

    /// <summary>A term as one spelling: the composed one of a keyword typed with accents, any other term as it is.</summary>
    private static QueryNode Spelled(QueryNode node) => node is OrNode o && IsOneSpelling(o) ? o.Children[0] : node;

    /// <summary>A leaf as the query language spells it, so that it can be read and typed again.</summary>
    internal static string? TextOf(QueryNode node) => node switch
    {
        EventTypeNode e => "event:" + e.Type,
        KeywordNode k => Field(k.Field) + ":" + KeywordValue(k.Value) + (k.IsPrefix ? "*" : ""),
        TextNode t => (t.Field == TextField.Any ? "" : t.Field.ToString().ToLowerInvariant() + ":")
            + (t.IsPhrase ? QueryTerms.Phrase(t.Text) : QueryTerms.Quote(t.Text)) + (t.IsPrefix ? "*" : ""),
        // on: is the only term with both bounds (after: and before: are a term each).
        TimeRangeNode { From: { } day, Until: { } next } when next - day == TimeSpan.FromDays(1) && day.UtcDateTime.TimeOfDay == TimeSpan.Zero =>
            "on:" + Day(day),
        TimeRangeNode r => string.Join(' ', new[]
        {
            r.From is { } from ? "after:" + Day(from) : null,
            r.Until is { } until ? "before:" + Day(until) : null,
        }.OfType<string>()) is { Length: > 0 } range ? range : null,
        _ => null,
    };

    /// <summary>
    /// A keyword's value as it is typed: bare unless a space, a quote, a parenthesis or a '*' would change what it means
    /// (a '*' inside quotes is itself, outside them a prefix). A backslash needs no quotes: <c>flag:\seen</c>.
    /// </summary>
    private static string KeywordValue(string value) =>
        value.Any(c => char.IsWhiteSpace(c) || c is '"' or '(' or ')' or '*') ? QueryTerms.Phrase(value) : value;

    private static string Field(KeywordField field) => field switch
    {
        KeywordField.MessageId => "messageid",
        _ => field.ToString().ToLowerInvariant(),
    };

    // after: and before: take days; a bound that is not midnight (a time typed in full) keeps its time.
    private static string Day(DateTimeOffset t) => t.UtcDateTime.TimeOfDay == TimeSpan.Zero
        ? t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture);

    private static string Range(TimeRangeNode r) => (r.From, r.Until) switch
    {
        ({ } from, { } until) when until - from == TimeSpan.FromDays(1) && from.UtcDateTime.TimeOfDay == TimeSpan.Zero => $"on {Day(from)} (UTC)",
        ({ } from, { } until) => $"from {Day(from)} up to {Day(until)} (UTC)",
        ({ } from, null) => $"from {Day(from)} (UTC) on",
        (null, { } until) => $"before {Day(until)} (UTC)",
        _ => "at any time",
    };
}
