using System.Text.Json;

namespace Bonnie.Shared.Events;

/// <summary>
/// An envelope whose syntax the parser has checked but whose strings, addresses and date are built on first read:
/// decoding it is the largest part of reading a notification. Safe to read from several threads; every reader
/// gets the same instance.
/// </summary>
internal sealed class DeferredEnvelope(ReadOnlyMemory<byte> jsonString)
{
    // The JSON string token, quotes included, inside the notification's own bytes (CyrusEvent.Raw keeps them).
    private readonly ReadOnlyMemory<byte> _jsonString = jsonString;
    private Envelope? _value;

    public Envelope Value => Volatile.Read(ref _value) ?? Build();

    private Envelope Build()
    {
        var reader = new Utf8JsonReader(_jsonString.Span);
        reader.Read();
        if (!EnvelopeReader.TryRead(ref reader, build: true, out var envelope, out var error))
        {
            // The parser ran the same reader over the same bytes before creating this.
            throw new InvalidOperationException($"an envelope checked when parsed does not read: {error}");
        }
        return Interlocked.CompareExchange(ref _value, envelope, null) ?? envelope!;
    }

    // CyrusEvent's record equality compares what it holds: compare envelopes, not the holders.
    public override bool Equals(object? obj) => obj switch
    {
        DeferredEnvelope other => ReferenceEquals(this, other) || Value.Equals(other.Value),
        Envelope envelope => Value.Equals(envelope),
        _ => false,
    };

    public override int GetHashCode() => Value.GetHashCode();
}
