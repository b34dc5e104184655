namespace Bonnie.Shared.Events;

/// <summary>Options for <see cref="NotificationParser"/>.</summary>
public sealed record ParserOptions
{
    /// <summary>Notifications above this size are refused as <see cref="ParseFailure.TooLarge"/> (default 20 MB).</summary>
    public int MaxNotificationBytes { get; init; } = 20 * 1024 * 1024;
}

/// <summary>Reads a Cyrus notification (either dialect) into a <see cref="CyrusEvent"/>. Never throws on bad input.</summary>
public static partial class NotificationParser
{
    public static ParseResult Parse(ReadOnlyMemory<byte> raw, ParserOptions? options = null)
        => throw new NotImplementedException("the event model issue implements the parser");
}
