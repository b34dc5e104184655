using System.Globalization;
using System.Text;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Search;

/// <summary>
/// Parses the officers' query language once into a <see cref="QueryNode"/> tree:
/// <c>user:alice@example.org event:MessageMove after:2026-11-01 ("contract draft" OR subject:invoice) -flag:\Seen sort:oldest</c>.
/// AND binds tighter than OR; juxtaposition is AND; <c>-x</c> and <c>NOT x</c> negate. Errors name the position and
/// what was expected there. Hostile input is bounded by <see cref="MaxLength"/>, <see cref="MaxDepth"/> and <see cref="MaxTerms"/>.
/// </summary>
public static class QueryParser
{
    public const int MaxLength = 4096;
    public const int MaxDepth = 32;
    public const int MaxTerms = 100;

    public static readonly IReadOnlyList<string> FieldNames =
        ["event", "user", "folder", "messageid", "from", "to", "subject", "session", "ip", "flag", "after", "before", "on", "sort"];

    public static ParsedQuery Parse(string? text)
    {
        text ??= "";
        if (text.Length > MaxLength)
        {
            throw new QuerySyntaxException(
                $"The query is {text.Length} characters long; the limit is {MaxLength}.", MaxLength, "a shorter query");
        }
        RefuseControlCharacters(text);
        var tokens = Tokenize(text, out var error);
        if (error is not null)
        {
            throw error;
        }
        var (sort, sortAt) = ExtractSort(tokens);
        var parser = new Parser(tokens);
        var root = parser.ParseQuery();
        if (root is AndNode conjunction)
        {
            // Parenthesized groups side by side are conditions of the whole query too: "(after:X before:Y) user:a".
            Parser.RefuseDatesThatLeaveNoTime(Conditions(conjunction).ToList());
        }
        return new ParsedQuery(root, sort, text) { SortAt = sortAt };
    }

    private static IEnumerable<QueryNode> Conditions(AndNode and) => and.Children.SelectMany(c => c is AndNode inner ? Conditions(inner) : [c]);

    // A NUL ends the string FTS5 parses ("unterminated string", an HTTP 500) and no control character is anything
    // an officer meant to search for. Tabs and line breaks (pasted text) separate terms as spaces do.
    private static void RefuseControlCharacters(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]) && !char.IsWhiteSpace(text[i]))
            {
                throw new QuerySyntaxException(
                    $"The query contains a control character U+{(int)text[i]:X4} at position {i}; remove it (tabs and line breaks count as spaces).",
                    i, "no control characters");
            }
        }
    }

    private enum TokenKind
    {
        Word,
        Phrase,
        LParen,
        RParen,
        And,
        Or,
        Not,
        Minus,
        End,
    }

    /// <summary>
    /// Where the query's <c>sort:</c> terms are, found by the parser's own lexer: a <c>sort:</c> inside a phrase
    /// (<c>"sort:of"</c>) is text and not listed; one at any depth is. For a query the parser refuses the lexer reads
    /// on as the parser would have: a phrase without its closing quote runs to the end of the query, so a
    /// <c>sort:</c> after the quote is text in it.
    /// </summary>
    public static IReadOnlyList<Range> FindSortTerms(string? text)
    {
        var tokens = Tokenize(text ?? "", out _);
        var spans = new List<Range>();
        for (var i = 0; i < tokens.Count; i++)
        {
            if (IsSortTerm(tokens[i]))
            {
                var start = tokens[i].Position;
                // sort:"oldest" is one term to the parser (a field and its quoted value), so it goes as one.
                if (tokens[i].Text.Length == 5 && tokens[i + 1] is { Kind: TokenKind.Phrase, GluedToPrevious: true })
                {
                    i++;
                }
                spans.Add(start..tokens[i].End);
            }
        }
        return spans;
    }

    private static bool IsSortTerm(Token t) => t.Kind == TokenKind.Word && t.Text.StartsWith("sort:", StringComparison.OrdinalIgnoreCase);

    /// <summary>A token and where it came from: <see cref="Position"/> to <see cref="End"/> (exclusive) in the query.</summary>
    private sealed record Token(TokenKind Kind, string Text, int Position, bool GluedToPrevious, int End);

    // Reads the whole query even when it is malformed, so that FindSortTerms can see it as the parser does; the first
    // error is handed back for Parse to throw.
    private static List<Token> Tokenize(string text, out QuerySyntaxException? error)
    {
        error = null;
        var tokens = new List<Token>();
        var i = 0;
        var glued = false;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                glued = false;
                continue;
            }
            var start = i;
            if (c == '(')
            {
                tokens.Add(new Token(TokenKind.LParen, "(", start, glued, start + 1));
                i++;
                glued = false;
                continue;
            }
            if (c == ')')
            {
                tokens.Add(new Token(TokenKind.RParen, ")", start, glued, start + 1));
                i++;
                glued = true;
                continue;
            }
            if (c == '"')
            {
                var sb = new StringBuilder();
                i++;
                var closed = false;
                while (i < text.Length)
                {
                    if (text[i] == '\\' && i + 1 < text.Length && (text[i + 1] == '"' || text[i + 1] == '\\'))
                    {
                        sb.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }
                    if (text[i] == '"')
                    {
                        closed = true;
                        i++;
                        break;
                    }
                    sb.Append(text[i]);
                    i++;
                }
                if (!closed)
                {
                    error ??= new QuerySyntaxException(
                        $"The phrase opened at position {start} has no closing quote.", text.Length, "a closing '\"'");
                }
                tokens.Add(new Token(TokenKind.Phrase, sb.ToString(), start, glued, i));
                glued = true;
                continue;
            }
            // A '-' that starts a token excludes, also right after ')' or a closing quote: "(customer)-review" and
            // "\"a b\"-review" read as an exclusion, as in web and mail search, and no word can continue across a
            // ')' or a quote, so there is no hyphenated word it could be part of. A '-' inside a word (e-mail,
            // x-spam) never gets here: the word loop below takes it.
            if (c == '-')
            {
                if (i + 1 >= text.Length || char.IsWhiteSpace(text[i + 1]) || text[i + 1] == ')')
                {
                    error ??= new QuerySyntaxException($"'-' at position {start} must be followed by the term to exclude.", i + 1, "a term after '-'");
                }
                tokens.Add(new Token(TokenKind.Minus, "-", start, glued, start + 1));
                i++;
                glued = false;
                continue;
            }
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not '(' and not ')' and not '"')
            {
                i++;
            }
            var word = text[start..i];
            var kind = word switch
            {
                "AND" => TokenKind.And,
                "OR" => TokenKind.Or,
                "NOT" => TokenKind.Not,
                _ => TokenKind.Word,
            };
            tokens.Add(new Token(kind, word, start, glued, i));
            glued = true;
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length, false, text.Length));
        return tokens;
    }

    // sort: applies to the whole query, so it is only accepted at the top level and taken out before parsing.
    private static (SortOrder Sort, int? At) ExtractSort(List<Token> tokens)
    {
        var sort = SortOrder.NewestFirst;
        int? at = null;
        var depth = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Kind == TokenKind.LParen)
            {
                depth++;
            }
            else if (t.Kind == TokenKind.RParen)
            {
                depth--;
            }
            else if (IsSortTerm(t))
            {
                var negated = i > 0 && tokens[i - 1].Kind is TokenKind.Not or TokenKind.Minus;
                if (depth != 0 || negated)
                {
                    throw new QuerySyntaxException(
                        $"'sort:' at position {t.Position} applies to the whole query; put it at the top level.", t.Position, "sort: at the top level");
                }
                // "a OR sort:oldest" was told a term was missing after OR at the end of the query (a review): the
                // sort: term is taken out before the query is parsed, so say what it is instead.
                // Only where taking it out leaves an operator without its term: "a sort:oldest OR b" is "a OR b", oldest
                // first, as it always was.
                var afterOperator = i > 0 && tokens[i - 1].Kind is TokenKind.Or or TokenKind.And;
                var beforeOperator = i + 1 < tokens.Count && tokens[i + 1].Kind is TokenKind.Or or TokenKind.And;
                var atEnd = i + 1 == tokens.Count || tokens[i + 1].Kind is TokenKind.RParen or TokenKind.End;
                if ((afterOperator && (atEnd || beforeOperator)) || (beforeOperator && i == 0))
                {
                    throw new QuerySyntaxException(
                        $"'sort:' at position {t.Position} orders the results and is not a term to join with OR or AND; put it beside the terms (a OR b sort:oldest).",
                        t.Position, "sort: beside the terms, not joined by OR or AND");
                }
                if (at is { } first)
                {
                    // Two orders cannot both hold; taking the last silently was a guess (a review).
                    throw new QuerySyntaxException(
                        $"'sort:' at position {t.Position} is the second one (the first is at position {first}); a query has one order.", t.Position, "one sort: term");
                }
                var value = t.Text[5..];
                sort = value.ToLowerInvariant() switch
                {
                    "newest" or "desc" => SortOrder.NewestFirst,
                    "oldest" or "asc" => SortOrder.OldestFirst,
                    _ => throw new QuerySyntaxException(
                        $"'sort:' at position {t.Position} takes 'newest' or 'oldest', not '{Shorten(value)}'.", t.Position + 5, "newest or oldest"),
                };
                at ??= t.Position;
                tokens.RemoveAt(i);
                i--;
            }
        }
        return (sort, at);
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the query",
        TokenKind.Phrase => $"the phrase \"{Shorten(t.Text)}\"",
        _ => $"'{Shorten(t.Text)}'",
    };

    private sealed class Parser(List<Token> tokens)
    {
        private int _index;
        private int _depth;
        private int _terms;

        private Token Peek => tokens[_index];

        public QueryNode ParseQuery()
        {
            if (Peek.Kind == TokenKind.End)
            {
                return new MatchAllNode { Position = 0 };
            }
            var node = ParseOr();
            if (Peek.Kind != TokenKind.End)
            {
                var t = Peek;
                throw t.Kind == TokenKind.RParen
                    ? new QuerySyntaxException($"')' at position {t.Position} closes nothing.", t.Position, "a term, AND, OR or the end of the query")
                    : new QuerySyntaxException($"Unexpected {Describe(t)} at position {t.Position}.", t.Position, "a term, AND, OR or the end of the query");
            }
            return node;
        }

        private QueryNode ParseOr()
        {
            var start = Peek.Position;
            var children = new List<QueryNode> { ParseAnd() };
            while (Peek.Kind == TokenKind.Or)
            {
                var or = tokens[_index++];
                if (!StartsTerm(Peek))
                {
                    throw new QuerySyntaxException(
                        // The position said is the one the error points at (where the term is missing), as everywhere else.
                        $"Expected a term at position {Peek.Position}, after the OR at position {or.Position}; found {Describe(Peek)}.", Peek.Position, "a term after OR");
                }
                children.Add(ParseAnd());
            }
            return children.Count == 1 ? children[0] : new OrNode(children) { Position = start };
        }

        private QueryNode ParseAnd()
        {
            var start = Peek.Position;
            if (!StartsTerm(Peek))
            {
                throw new QuerySyntaxException($"Expected a term at position {Peek.Position}, found {Describe(Peek)}.", Peek.Position, "a term");
            }
            var children = new List<QueryNode> { ParseUnary() };
            while (true)
            {
                if (Peek.Kind == TokenKind.And)
                {
                    var and = tokens[_index++];
                    if (!StartsTerm(Peek))
                    {
                        throw new QuerySyntaxException(
                            $"Expected a term after AND at position {and.Position}, found {Describe(Peek)}.", Peek.Position, "a term after AND");
                    }
                    children.Add(ParseUnary());
                }
                else if (StartsTerm(Peek))
                {
                    children.Add(ParseUnary());
                }
                else
                {
                    break;
                }
            }
            return children.Count == 1 ? children[0] : new AndNode(children) { Position = start };
        }

        // after:2026-11-01 before:2026-10-01 found nothing, with no word why (a review): dates side by side that no
        // moment satisfies are refused, pointing at the one that closes the window. Only those the whole query must
        // meet: under NOT or in one branch of an OR they mean something ("-(after:X before:Y)" is everything).
        internal static void RefuseDatesThatLeaveNoTime(IReadOnlyList<QueryNode> children)
        {
            TimeRangeNode? latestStart = null;
            TimeRangeNode? earliestEnd = null;
            foreach (var range in children.OfType<TimeRangeNode>())
            {
                if (range.From is { } from && (latestStart?.From is not { } f || from > f))
                {
                    latestStart = range;
                }
                if (range.Until is { } until && (earliestEnd?.Until is not { } u || until < u))
                {
                    earliestEnd = range;
                }
            }
            if (latestStart is not null && earliestEnd is not null && latestStart.From >= earliestEnd.Until)
            {
                var (first, second) = latestStart.Position < earliestEnd.Position ? (latestStart, earliestEnd) : (earliestEnd, latestStart);
                throw new QuerySyntaxException(
                    $"The dates at positions {first.Position} and {second.Position} leave no time between them: no event can match both. Use OR for either, or widen the dates.",
                    second.Position, "dates that overlap");
            }
        }

        private static bool StartsTerm(Token t) => t.Kind is TokenKind.Word or TokenKind.Phrase or TokenKind.LParen or TokenKind.Not or TokenKind.Minus;

        private QueryNode ParseUnary()
        {
            var t = Peek;
            if (t.Kind is TokenKind.Not or TokenKind.Minus)
            {
                _index++;
                Enter(t);
                if (!StartsTerm(Peek))
                {
                    throw new QuerySyntaxException(
                        $"Expected a term to exclude after {Describe(t)} at position {t.Position}, found {Describe(Peek)}.", Peek.Position, "a term to exclude");
                }
                var child = ParseUnary();
                _depth--;
                return new NotNode(child) { Position = t.Position };
            }
            return ParsePrimary();
        }

        private void Enter(Token t)
        {
            if (++_depth > MaxDepth)
            {
                throw new QuerySyntaxException(
                    $"The query nests deeper than {MaxDepth} levels at position {t.Position}.", t.Position, "fewer nested parentheses or NOTs");
            }
        }

        private QueryNode ParsePrimary()
        {
            var t = tokens[_index++];
            switch (t.Kind)
            {
                case TokenKind.LParen:
                    {
                        Enter(t);
                        if (Peek.Kind == TokenKind.RParen)
                        {
                            throw new QuerySyntaxException($"Empty parentheses at position {t.Position}.", Peek.Position, "a term inside '(' ')'");
                        }
                        var inner = ParseOr();
                        if (Peek.Kind != TokenKind.RParen)
                        {
                            throw new QuerySyntaxException(
                                $"Expected ')' to close the '(' at position {t.Position}, found {Describe(Peek)} at position {Peek.Position}.", Peek.Position, "')'");
                        }
                        _index++;
                        _depth--;
                        return inner;
                    }
                case TokenKind.Phrase:
                    CountTerm(t);
                    return Text(TextField.Any, t.Text, isPhrase: true, TakePhrasePrefix(), t.Position, t.Position);
                case TokenKind.Word:
                    CountTerm(t);
                    return ParseWord(t);
                default:
                    throw new QuerySyntaxException($"Expected a term at position {t.Position}, found {Describe(t)}.", t.Position, "a term");
            }
        }

        private void CountTerm(Token t)
        {
            if (++_terms > MaxTerms)
            {
                throw new QuerySyntaxException($"The query has more than {MaxTerms} terms (at position {t.Position}).", t.Position, "fewer terms");
            }
        }

        private QueryNode ParseWord(Token t)
        {
            var colon = t.Text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return Text(TextField.Any, t.Text, isPhrase: false, phrasePrefix: false, t.Position, t.Position);
            }
            var field = t.Text[..colon].ToLowerInvariant();
            if (!FieldNames.Contains(field))
            {
                throw new QuerySyntaxException(
                    $"Unknown field '{Shorten(t.Text[..colon])}' at position {t.Position}; fields are {string.Join(", ", FieldNames.Select(f => f + ":"))}. Put text with a colon in quotes.",
                    t.Position, "a field name");
            }
            var valuePosition = t.Position + colon + 1;
            var value = t.Text[(colon + 1)..];
            var isPhrase = false;
            if (value.Length == 0 && Peek.Kind == TokenKind.Phrase && Peek.GluedToPrevious)
            {
                value = tokens[_index++].Text;
                isPhrase = true;
            }
            if (value.Length == 0)
            {
                throw new QuerySyntaxException($"Expected a value after '{field}:' at position {valuePosition}.", valuePosition, $"a value for {field}:");
            }
            // Only text and keyword values have prefixes; after event: or a date the '*' stays a term and is refused.
            var phrasePrefix = isPhrase && field is not ("event" or "after" or "before" or "on") && TakePhrasePrefix();
            return field switch
            {
                "event" => EventTerm(value, valuePosition, t.Position),
                "user" => Keyword(KeywordField.User, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "folder" => Keyword(KeywordField.Folder, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "messageid" => Keyword(KeywordField.MessageId, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "session" => Keyword(KeywordField.Session, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "ip" => Keyword(KeywordField.Ip, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "flag" => Keyword(KeywordField.Flag, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "from" => Text(TextField.From, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "to" => Text(TextField.To, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "subject" => Text(TextField.Subject, value, isPhrase, phrasePrefix, valuePosition, t.Position),
                "after" => Date(field, value, valuePosition, t.Position),
                "before" => Date(field, value, valuePosition, t.Position),
                "on" => Date(field, value, valuePosition, t.Position),
                _ => throw new QuerySyntaxException($"'sort:' at position {t.Position} applies to the whole query; put it at the top level.", t.Position, "sort: at the top level"),
            };
        }

        private static EventTypeNode EventTerm(string value, int valuePosition, int position)
        {
            if (EventNames.TryResolve(value, out var type))
            {
                return new EventTypeNode(type) { Position = position };
            }
            var parts = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length > 1 && parts.All(p => EventNames.TryResolve(p, out _)))
            {
                throw new QuerySyntaxException(
                    $"'event:' at position {valuePosition} takes one event type, not the list '{Shorten(value)}'; for any of them write ({string.Join(" OR ", parts.Select(p => "event:" + p))}).",
                    valuePosition, "one event type");
            }
            var closest = EventNames.Closest(value);
            throw new QuerySyntaxException(
                closest is not null
                    ? $"Unknown event type '{Shorten(value)}' at position {valuePosition}; did you mean {closest}? Event types are {string.Join(", ", EventNames.Known)}."
                    : $"Unknown event type '{Shorten(value)}' at position {valuePosition}; expected one of {string.Join(", ", EventNames.Known)}.",
                valuePosition, "an event type");
        }

        // "contract dra"* is a phrase whose last word is a prefix, as FTS5 ('"contract dra" *') and Elasticsearch
        // (match_phrase_prefix) both read it. Without this the '*' was a term of its own, which has nothing to
        // match, so the whole AND silently found nothing. Inside the quotes a '*' is only text.
        private bool TakePhrasePrefix()
        {
            if (Peek is { Kind: TokenKind.Word, Text: "*", GluedToPrevious: true })
            {
                _index++;
                return true;
            }
            return false;
        }

        private static QueryNode Keyword(KeywordField field, string value, bool isPhrase, bool phrasePrefix, int valuePosition, int position)
        {
            if (!isPhrase)
            {
                // user:*@example.org and folder:*Archive searched for a literal '*' and quietly found nothing (a review).
                // A Message-ID may hold a '*' (RFC 5322 allows it): there it is a character, as it always was.
                var star = value.IndexOf('*', StringComparison.Ordinal);
                if (field != KeywordField.MessageId && star >= 0 && star < value.Length - 1)
                {
                    throw new QuerySyntaxException(
                        $"'*' at position {valuePosition + star} can only end a value, as a prefix (user:al*); a value cannot start with it or go on after it. Quote the value to search a '*' as written.",
                        valuePosition + star, "'*' only at the end of a value");
                }
                if (field == KeywordField.Ip && value.Contains('/', StringComparison.Ordinal))
                {
                    value = NetworkAsPrefix(value, valuePosition);
                }
                else if (field == KeywordField.Ip && AddressPart(value).IndexOfAnyExcept(IpCharacters) is var bad and >= 0)
                {
                    // An address holds only these (IPv4, IPv6, an IPv6 zone, brackets): ip:not-an-ip found nothing and said
                    // nothing, as if no session had come from it (a review).
                    throw new QuerySyntaxException(
                        $"ip: takes an address, a prefix (ip:192.0.2.* or ip:2001:db8:*) or an IPv4 network of /8, /16, /24 or /32; '{Shorten(value)}' at position {valuePosition} is none of these (it has '{value[bad]}' at position {valuePosition + bad}).",
                        valuePosition + bad, "an address or a prefix");
                }
            }
            var prefix = isPhrase ? phrasePrefix : value.EndsWith('*');
            if (prefix && !isPhrase)
            {
                value = value[..^1];
            }
            if (prefix && value.Length == 0)
            {
                throw new QuerySyntaxException($"A prefix at position {valuePosition} needs at least one character before '*'.", valuePosition, "characters before '*'");
            }
            var normalized = prefix ? NormalizePrefix(field, value) : NormalizeKeyword(field, value);
            // A name with accents can be written composed ("ü") or decomposed ("u" and a combining mark): they look the
            // same, are different strings, and both occur (macOS Mail has created folders decomposed, browsers send what
            // was typed composed). Stored values are kept as they came, so both spellings are searched.
            var (composed, decomposed) = (UnicodeForms.Normalized(normalized, NormalizationForm.FormC), UnicodeForms.Normalized(normalized, NormalizationForm.FormD));
            if (string.Equals(composed, decomposed, StringComparison.Ordinal))
            {
                return new KeywordNode(field, normalized, prefix) { Position = position };
            }
            return new OrNode([
                new KeywordNode(field, composed, prefix) { Position = position },
                new KeywordNode(field, decomposed, prefix) { Position = position },
            ]) { Position = position };
        }

        /// <summary>
        /// ip:10.0.0.0/8 quietly found nothing (a review). An IPv4 network on a byte boundary is the prefix of its
        /// addresses as Cyrus writes them (10.*, 10.1.*, 10.1.2.*; /32 the address itself); any other is refused with
        /// what to write instead.
        /// </summary>
        /// <summary>The address before an IPv6 zone (<c>%eth0</c>, a name) and a prefix's '*'.</summary>
        private static string AddressPart(string value)
        {
            var zone = value.IndexOf('%', StringComparison.Ordinal);
            return (zone >= 0 ? value[..zone] : value).TrimEnd('*');
        }

        private static readonly System.Buffers.SearchValues<char> IpCharacters =
            System.Buffers.SearchValues.Create("0123456789abcdefABCDEF.:[]");

        private static string NetworkAsPrefix(string value, int valuePosition)
        {
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            var address = value[..slash];
            var octets = address.Split('.');
            if (octets.Length == 4 && octets.All(o => byte.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                && int.TryParse(value[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var bits) && bits is 8 or 16 or 24 or 32)
            {
                var kept = bits / 8;
                if (octets.Skip(kept).Any(o => byte.Parse(o, CultureInfo.InvariantCulture) != 0))
                {
                    throw new QuerySyntaxException(
                        $"The network '{Shorten(value)}' at position {valuePosition} has address bits set beyond its /{bits}: write {string.Join('.', octets.Take(kept))}.0/{bits}, or ip:{string.Join('.', octets.Take(kept))}.*",
                        valuePosition + slash, "a network address");
                }
                return kept == 4 ? address : string.Join('.', octets.Take(kept)) + ".*";
            }
            throw new QuerySyntaxException(
                $"ip: takes an address, a prefix (ip:192.0.2.* or ip:2001:db8:*) or an IPv4 network of /8, /16, /24 or /32; '{Shorten(value)}' at position {valuePosition} is none of these.",
                valuePosition + slash, "an address or a prefix");
        }

        // A prefix is the start of the stored "<id>": the '<' belongs in front of it, but a '>' after it would make
        // the prefix end where the officer's typing stopped, so 750.39250* could only ever find "<750.39250>".
        private static string NormalizePrefix(KeywordField field, string value)
        {
            value = value.Trim().ToLowerInvariant();
            return field == KeywordField.MessageId && !value.StartsWith('<') ? "<" + value : value;
        }

        private static TextNode Text(TextField field, string value, bool isPhrase, bool phrasePrefix, int valuePosition, int position)
        {
            // Checked before the node refuses it (TextNode holds the invariant) to say where and what to write instead.
            if (!TextNode.HasSearchableText(value))
            {
                var what = isPhrase ? $"The phrase '{Shorten(value)}'" : $"'{Shorten(value)}'";
                var hint = !isPhrase && value.EndsWith('*') ? "; a prefix needs letters or digits before its '*'" : "";
                throw new QuerySyntaxException(
                    $"{what} at position {valuePosition} has no letters or digits to search for{hint}.", valuePosition, "a word with letters or digits");
            }
            // A lone '*' has no letter or digit and was refused above.
            var prefix = isPhrase ? phrasePrefix : value.EndsWith('*');
            if (prefix && !isPhrase)
            {
                value = value[..^1];
            }
            return new TextNode(field, value, isPhrase, prefix) { Position = position };
        }

        private static TimeRangeNode Date(string field, string value, int valuePosition, int position)
        {
            DateTimeOffset from;
            var isDay = DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day);
            if (isDay)
            {
                from = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            }
            else if (field != "on" && value.Contains('T', StringComparison.Ordinal)
                && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
            {
                from = instant;
            }
            else if (field != "on" && BadOffset(value) is { } offset)
            {
                throw new QuerySyntaxException(
                    $"The time '{Shorten(value)}' after '{field}:' at position {valuePosition} has the offset {offset}; a UTC offset is between -14:00 and +14:00 (or Z).",
                    valuePosition, "a time with a UTC offset between -14:00 and +14:00, or Z");
            }
            else if (field != "on" && IsTimeOutsideRange(value))
            {
                throw new QuerySyntaxException(
                    $"The time '{Shorten(value)}' after '{field}:' at position {valuePosition} is outside the times that can be searched, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.",
                    valuePosition, "a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z");
            }
            else
            {
                var expected = field == "on" ? "a date like 2026-11-29" : "a date like 2026-11-29 or a time like 2026-11-29T11:20:00Z";
                throw new QuerySyntaxException($"Expected {expected} after '{field}:' at position {valuePosition}, found '{Shorten(value)}'.", valuePosition, expected);
            }
            return field switch
            {
                "after" => new TimeRangeNode(from, null) { Position = position },
                "before" => new TimeRangeNode(null, from) { Position = position },
                // The last day has no next day to end at, and nothing can come after it.
                _ => new TimeRangeNode(from, day == DateOnly.MaxValue ? null : from.AddDays(1)) { Position = position },
            };
        }

        /// <summary>The offset of a time that is otherwise well formed, when no UTC offset is that large (+25:00), or null.</summary>
        private static string? BadOffset(string value)
        {
            var t = value.IndexOf('T', StringComparison.Ordinal);
            var zone = t < 0 ? -1 : value.AsSpan(t).LastIndexOfAny('+', '-');
            if (zone <= 0)
            {
                return null;
            }
            var offset = value[(t + zone)..];
            var digits = offset[1..].Replace(":", "", StringComparison.Ordinal);
            // hh, hhmm or hh:mm; TimeSpan's own formats stop at 23 hours, the very values to tell about.
            return digits.Length is 2 or 4 && digits.All(char.IsAsciiDigit)
                && int.Parse(digits[..2], CultureInfo.InvariantCulture) * 60 + (digits.Length == 4 ? int.Parse(digits[2..], CultureInfo.InvariantCulture) : 0) > 14 * 60
                && DateTime.TryParse(value[..(t + zone)], CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                ? offset
                : null;
        }

        // A time whose clock reading is valid but whose zone moves it past either end of DateTimeOffset
        // (9999-12-31T23:00:00-05:00): said so, rather than that the text is not a time.
        private static bool IsTimeOutsideRange(string value)
        {
            var t = value.IndexOf('T', StringComparison.Ordinal);
            if (t < 0)
            {
                return false;
            }
            var zone = value.AsSpan(t).LastIndexOfAny('+', '-');
            var local = value.EndsWith('Z') || value.EndsWith('z') ? value[..^1] : zone > 0 ? value[..(t + zone)] : null;
            return local is not null && DateTime.TryParse(local, CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
        }
    }

    /// <summary>
    /// How keyword values are stored and searched: the same normalisation on both sides. A Message-ID is kept as
    /// <c>&lt;id&gt;</c>, its angle brackets as in the header, whichever of them the officer (or a sender) left out.
    /// </summary>
    public static string NormalizeKeyword(KeywordField field, string value)
    {
        value = value.Trim().ToLowerInvariant();
        if (field == KeywordField.MessageId && value.Length > 0)
        {
            // messageid:<abc@x, typed without its closing '>' (or pasted from a header that lost it), was searched
            // as "<abc@x" and found nothing: the stored id is "<abc@x>".
            var start = value[0] == '<' ? 1 : 0;
            var end = value.Length > start && value[^1] == '>' ? value.Length - 1 : value.Length;
            value = "<" + value[start..end] + ">";
        }
        return value;
    }
}

/// <summary>Event names as officers type them (<c>MessageMove</c>, <c>vnd.cmu.MessageMove</c>, <c>QuotaExceeded</c>), folded onto <see cref="EventType"/>.</summary>
public static class EventNames
{
    public static IReadOnlyList<string> Known { get; } =
        Enum.GetNames<EventType>().Where(n => n != nameof(EventType.Unknown)).ToArray();

    // Whole names only: Enum.TryParse also takes "Login,Logout" (the OR of the values, which is MessageNew) and
    // numbers, so an officer's list or typo would silently search another type.
    private static readonly Dictionary<string, EventType> ByName = BuildByName();

    // The names Cyrus sends (the notification parser's table: vnd.cmu.MessageMove, QuotaExceeded...) and the enum's own.
    private static Dictionary<string, EventType> BuildByName()
    {
        var byName = new Dictionary<string, EventType>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, type) in NotificationParser.KnownEventNames)
        {
            byName[name] = type;
        }
        foreach (var name in Known)
        {
            byName[name] = Enum.Parse<EventType>(name);
        }
        // Bonnie's own event, as its events' name field spells it.
        byName["vnd.bonnie.MessageFound"] = EventType.MessageFound;
        return byName;
    }

    public static bool TryResolve(string name, out EventType type) => ByName.TryGetValue(name, out type);

    /// <summary>The known name closest to <paramref name="name"/> (a typo or two away), or null when none is close.</summary>
    public static string? Closest(string name)
    {
        if (name.StartsWith("vnd.cmu.", StringComparison.OrdinalIgnoreCase))
        {
            name = name[8..];
        }
        var folded = name.ToLowerInvariant();
        var best = Known
            .Select(k => (Name: k, Distance: Spelling.Distance(folded, k.ToLowerInvariant())))
            .MinBy(k => k.Distance);
        return best.Distance <= Math.Max(1, Math.Min(3, name.Length / 4)) ? best.Name : null;
    }
}
