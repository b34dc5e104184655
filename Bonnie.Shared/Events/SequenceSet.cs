namespace Bonnie.Shared.Events;

/// <summary>An IMAP sequence set of UIDs (<c>1:3,7</c>), as ranges. <c>*</c> is refused: an event names concrete UIDs.</summary>
public sealed record SequenceSet(IReadOnlyList<UidRange> Ranges)
{
    public IEnumerable<uint> Uids => Ranges.SelectMany(r => Enumerable.Range(0, (int)(r.Last - r.First + 1)).Select(i => r.First + (uint)i));
    public long Count => Ranges.Sum(r => (long)r.Last - r.First + 1);
}

public readonly record struct UidRange(uint First, uint Last);
