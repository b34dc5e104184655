using System.Text.Json;

namespace Bonnie.Shared.Events;

/// <summary>
/// A JSON string kept as its bytes and turned into a string on first read, for long values most consumers never
/// read (<c>bodyStructure</c>). Only for strings without <c>\u</c> escapes, which always decode. Safe to read from
/// several threads; every reader gets the same instance.
/// </summary>
internal sealed class DeferredText(ReadOnlyMemory<byte> jsonString)
{
    // The JSON string token, quotes included, inside the notification's own bytes (CyrusEvent.Raw keeps them).
    private readonly ReadOnlyMemory<byte> _jsonString = jsonString;
    private string? _value;

    public string Value => Volatile.Read(ref _value) ?? Build();

    private string Build()
    {
        var reader = new Utf8JsonReader(_jsonString.Span);
        reader.Read();
        var value = reader.GetString()!;
        return Interlocked.CompareExchange(ref _value, value, null) ?? value;
    }

    // CyrusEvent's record equality compares what it holds: compare the text, not the holders.
    public override bool Equals(object? obj) => obj switch
    {
        DeferredText other => ReferenceEquals(this, other) || Value == other.Value,
        string text => Value == text,
        _ => false,
    };

    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);
}
