namespace Bonnie.Shared.Search;

/// <summary>A query that does not parse: where (0-based character position) and what was expected there.</summary>
public sealed class QuerySyntaxException : Exception
{
    public QuerySyntaxException(string message, int position, string expected)
        : base(message)
    {
        Position = position;
        Expected = expected;
    }

    public QuerySyntaxException()
        : this("The query does not parse.", 0, "a query")
    {
    }

    public QuerySyntaxException(string message)
        : this(message, 0, "a query")
    {
    }

    public QuerySyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
        Expected = "a query";
    }

    public int Position { get; }
    public string Expected { get; } = "a query";
}
