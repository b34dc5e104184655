using System.Text.Json;

namespace Bonnie.Shared.Events;

/// <summary>
/// A JSON string value whose syntax the parser has checked, kept as its bytes and built on first read: an envelope
/// (decoding it is the largest part of reading a notification) or a long text most consumers never read
/// (<c>bodyStructure</c>). Safe to read from several threads; every reader gets the same instance.
/// </summary>
internal sealed class Deferred<T>(ReadOnlyMemory<byte> jsonString, Deferred<T>.Builder build)
    where T : class
{
    /// <summary>Builds the value from a reader positioned on the string token; the parser already read it once.</summary>
    public delegate T Builder(ref Utf8JsonReader reader);

    // The JSON string token, quotes included, inside the notification's own bytes (CyrusEvent.Raw keeps them).
    private readonly ReadOnlyMemory<byte> _jsonString = jsonString;
    private T? _value;

    public T Value => Volatile.Read(ref _value) ?? Build();

    private T Build()
    {
        var reader = new Utf8JsonReader(_jsonString.Span);
        reader.Read();
        var value = build(ref reader);
        return Interlocked.CompareExchange(ref _value, value, null) ?? value;
    }

    // CyrusEvent's record equality compares what it holds: compare the values, not the holders.
    public override bool Equals(object? obj) => obj switch
    {
        Deferred<T> other => ReferenceEquals(this, other) || Value.Equals(other.Value),
        T value => Value.Equals(value),
        _ => false,
    };

    public override int GetHashCode() => Value.GetHashCode();
}
