using System.Globalization;
using System.Text;

namespace Bonnie.Shared.Events;

/// <summary>
/// An IMAP sequence set of UIDs (<c>1:3,7</c>), as ranges in the order sent. A reversed range (<c>5:3</c>) is
/// normalised to <c>3:5</c>. <c>*</c> and <c>0</c> are refused: an event names concrete UIDs.
/// </summary>
public sealed record SequenceSet(IReadOnlyList<UidRange> Ranges)
{
    /// <summary>Every UID, range by range, in the order sent (lazily: a range may be large).</summary>
    public IEnumerable<uint> Uids
    {
        get
        {
            foreach (var range in Ranges)
            {
                for (var uid = range.First; ; uid++)
                {
                    yield return uid;
                    if (uid == range.Last)
                    {
                        break;
                    }
                }
            }
        }
    }

    public long Count => Ranges.Sum(r => (long)r.Last - r.First + 1);

    public bool Contains(uint uid)
    {
        foreach (var range in Ranges)
        {
            if (uid >= range.First && uid <= range.Last)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Reads <c>1:3,7</c>; throws <see cref="SequenceSetFormatException"/> naming what is wrong.</summary>
    public static SequenceSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var set, out var error) ? set : throw new SequenceSetFormatException(error);
    }

    public static bool TryParse(string? text, out SequenceSet set) => TryParse(text, out set, out _);

    /// <summary>Reads <c>1:3,7</c>; on failure <paramref name="error"/> says what is wrong and where.</summary>
    public static bool TryParse(string? text, out SequenceSet set, out string error)
    {
        set = null!;
        if (string.IsNullOrEmpty(text))
        {
            error = "the sequence set is empty";
            return false;
        }
        var ranges = new UidRange[text.AsSpan().Count(',') + 1];
        var count = 0;
        var position = 0;
        while (true)
        {
            if (!TryReadNumber(text, ref position, out var first, out error))
            {
                return false;
            }
            var last = first;
            if (position < text.Length && text[position] == ':')
            {
                position++;
                if (!TryReadNumber(text, ref position, out last, out error))
                {
                    return false;
                }
            }
            ranges[count++] = first <= last ? new UidRange(first, last) : new UidRange(last, first);
            if (position == text.Length)
            {
                break;
            }
            if (text[position] != ',')
            {
                error = $"unexpected '{text[position]}' at position {position} in sequence set \"{text}\"";
                return false;
            }
            position++;
        }
        set = new SequenceSet(ranges);
        error = "";
        return true;
    }

    private static bool TryReadNumber(string text, ref int position, out uint value, out string error)
    {
        value = 0;
        var start = position;
        if (position < text.Length && text[position] == '*')
        {
            error = $"'*' at position {position} in sequence set \"{text}\": an event must name concrete UIDs";
            return false;
        }
        ulong accumulated = 0;
        while (position < text.Length && char.IsAsciiDigit(text[position]))
        {
            accumulated = accumulated * 10 + (uint)(text[position] - '0');
            if (accumulated > uint.MaxValue)
            {
                error = $"the number at position {start} in sequence set \"{text}\" is larger than a UID can be (4294967295)";
                return false;
            }
            position++;
        }
        if (position == start)
        {
            error = position < text.Length
                ? $"expected a UID at position {position} in sequence set \"{text}\", found '{text[position]}'"
                : $"expected a UID at the end of sequence set \"{text}\"";
            return false;
        }
        if (accumulated == 0)
        {
            error = $"UID 0 at position {start} in sequence set \"{text}\": UIDs start at 1";
            return false;
        }
        value = (uint)accumulated;
        error = "";
        return true;
    }

    /// <summary>The set in IMAP syntax (<c>1:3,7</c>).</summary>
    public override string ToString()
    {
        var builder = new StringBuilder();
        foreach (var range in Ranges)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }
            builder.Append(range.First.ToString(CultureInfo.InvariantCulture));
            if (range.Last != range.First)
            {
                builder.Append(':').Append(range.Last.ToString(CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }
}

public readonly record struct UidRange(uint First, uint Last);

/// <summary>A sequence set that is not IMAP syntax, names <c>*</c> or UID 0; the message says which and where.</summary>
public sealed class SequenceSetFormatException : FormatException
{
    public SequenceSetFormatException() { }
    public SequenceSetFormatException(string message) : base(message) { }
    public SequenceSetFormatException(string message, Exception innerException) : base(message, innerException) { }
}
