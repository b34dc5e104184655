using System.Globalization;

namespace Bonnie.Shared.Events;

/// <summary>RFC 5322 dates (<c>Sun, 29 Nov 2026 11:20:38 -0000</c>), with the obsolete forms mailers still send.</summary>
internal static class MessageDate
{
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        var tokens = new Tokenizer(text);
        var token = tokens.Next();
        if (token.Length > 0 && char.IsAsciiLetter(token[0]) && MonthOf(token) == 0)
        {
            token = tokens.Next(); // day of week
        }
        if (!TryNumber(token, out var day))
        {
            return false;
        }
        var month = MonthOf(tokens.Next());
        var yearToken = tokens.Next();
        if (month == 0 || !TryNumber(yearToken, out var year))
        {
            return false;
        }
        year = yearToken.Length switch
        {
            2 => year < 50 ? 2000 + year : 1900 + year,
            3 => 1900 + year,
            _ => year,
        };
        var time = tokens.Next();
        var colon = time.IndexOf(':');
        if (colon < 0 || !TryNumber(time[..colon], out var hour))
        {
            return false;
        }
        time = time[(colon + 1)..];
        colon = time.IndexOf(':');
        var second = 0;
        if (!TryNumber(colon < 0 ? time : time[..colon], out var minute) || (colon >= 0 && !TryNumber(time[(colon + 1)..], out second)))
        {
            return false;
        }
        var zone = tokens.Next();
        var offset = TimeSpan.Zero;
        if (zone.Length > 0 && !TryZone(zone, out offset))
        {
            return false;
        }
        if (year is < 1 or > 9999 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 60 || offset.Duration() > TimeSpan.FromHours(14))
        {
            return false;
        }
        // A leap second is kept as the last second of the minute rather than refusing the date.
        value = new DateTimeOffset(year, month, day, hour, minute, Math.Min(second, 59), offset);
        return true;
    }

    private static bool TryNumber(ReadOnlySpan<char> token, out int value)
    {
        value = 0;
        if (token.IsEmpty || token.Length > 4)
        {
            return false;
        }
        foreach (var c in token)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = value * 10 + (c - '0');
        }
        return true;
    }

    /// <summary>1 to 12, or 0 when the token is no month.</summary>
    private static int MonthOf(ReadOnlySpan<char> token)
    {
        if (token.Length < 3)
        {
            return 0;
        }
        Span<char> lower = stackalloc char[3];
        token[..3].ToLowerInvariant(lower);
        return lower switch
        {
            "jan" => 1, "feb" => 2, "mar" => 3, "apr" => 4, "may" => 5, "jun" => 6,
            "jul" => 7, "aug" => 8, "sep" => 9, "oct" => 10, "nov" => 11, "dec" => 12,
            _ => 0,
        };
    }

    private static bool TryZone(ReadOnlySpan<char> zone, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (zone.Length == 5 && zone[0] is '+' or '-'
            && int.TryParse(zone.Slice(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            && int.TryParse(zone.Slice(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            && minutes < 60)
        {
            offset = new TimeSpan(hours, minutes, 0);
            if (zone[0] == '-')
            {
                offset = -offset;
            }
            return true;
        }
        Span<char> upper = stackalloc char[Math.Min(zone.Length, 4)];
        zone[..upper.Length].ToUpperInvariant(upper);
        int? hoursOffset = zone.Length > 4 ? null : upper switch
        {
            "UT" or "UTC" or "GMT" or "Z" => 0,
            "EST" => -5, "EDT" => -4, "CST" => -6, "CDT" => -5,
            "MST" => -7, "MDT" => -6, "PST" => -8, "PDT" => -7,
            // RFC 5322 4.3: military zones were defined wrongly and mean "unknown"; read them as UTC.
            { Length: 1 } when char.IsAsciiLetter(upper[0]) => 0,
            _ => null,
        };
        if (hoursOffset is null)
        {
            return false;
        }
        offset = TimeSpan.FromHours(hoursOffset.Value);
        return true;
    }

    /// <summary>Words of a date: separated by spaces or commas, comments in parentheses skipped.</summary>
    private ref struct Tokenizer(string text)
    {
        private readonly ReadOnlySpan<char> _text = text;
        private int _position;

        public ReadOnlySpan<char> Next()
        {
            var depth = 0;
            while (_position < _text.Length)
            {
                var c = _text[_position];
                if (c == '(')
                {
                    depth++;
                }
                else if (c == ')' && depth > 0)
                {
                    depth--;
                }
                else if (depth == 0 && c is not (' ' or '\t' or '\r' or '\n' or ','))
                {
                    break;
                }
                _position++;
            }
            var start = _position;
            while (_position < _text.Length && _text[_position] is not (' ' or '\t' or '\r' or '\n' or ',' or '('))
            {
                _position++;
            }
            return _text[start.._position];
        }
    }
}
