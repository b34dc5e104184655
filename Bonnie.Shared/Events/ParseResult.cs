namespace Bonnie.Shared.Events;

/// <summary>Why a notification could not be read. The pipeline quarantines it with this reason; nothing is dropped.</summary>
public enum ParseFailure
{
    None = 0,
    TooLarge,
    InvalidUtf8,
    MalformedJson,
    NotAnObject,
    MissingEvent,
    UnknownEvent,
    InvalidField,
}

/// <summary>The outcome of <see cref="NotificationParser.Parse"/>: an event, or a failure a person can read.</summary>
public sealed record ParseResult
{
    public CyrusEvent? Event { get; init; }
    public ParseFailure Failure { get; init; }
    /// <summary>A sentence a person can act on, naming the field or position at fault.</summary>
    public string? Reason { get; init; }
    public bool IsSuccess => Event is not null;
}
