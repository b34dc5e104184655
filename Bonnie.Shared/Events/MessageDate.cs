using System.Globalization;

namespace Bonnie.Shared.Events;

/// <summary>RFC 5322 dates (<c>Sun, 29 Nov 2026 11:20:38 -0000</c>), with the obsolete forms mailers still send.</summary>
internal static class MessageDate
{
    private static readonly string[] Months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        var tokens = Tokens(text);
        var index = 0;
        if (index < tokens.Count && char.IsAsciiLetter(tokens[index][0]) && MonthOf(tokens[index]) < 0)
        {
            index++; // day of week
        }
        if (index + 4 > tokens.Count)
        {
            return false;
        }
        if (!int.TryParse(tokens[index], NumberStyles.None, CultureInfo.InvariantCulture, out var day))
        {
            return false;
        }
        var month = MonthOf(tokens[index + 1]) + 1;
        if (month == 0 || !int.TryParse(tokens[index + 2], NumberStyles.None, CultureInfo.InvariantCulture, out var year))
        {
            return false;
        }
        year = tokens[index + 2].Length switch
        {
            2 => year < 50 ? 2000 + year : 1900 + year,
            3 => 1900 + year,
            _ => year,
        };
        var time = tokens[index + 3].Split(':');
        if (time.Length is < 2 or > 3
            || !int.TryParse(time[0], NumberStyles.None, CultureInfo.InvariantCulture, out var hour)
            || !int.TryParse(time[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minute))
        {
            return false;
        }
        var second = 0;
        if (time.Length == 3 && !int.TryParse(time[2], NumberStyles.None, CultureInfo.InvariantCulture, out second))
        {
            return false;
        }
        var offset = TimeSpan.Zero;
        if (index + 4 < tokens.Count && !TryZone(tokens[index + 4], out offset))
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

    private static List<string> Tokens(string text)
    {
        var tokens = new List<string>(6);
        var depth = 0;
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ' ';
            var separator = c is ' ' or '\t' or '\r' or '\n' or ',' or '(' or ')' || depth > 0;
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')' && depth > 0)
            {
                depth--;
                separator = true;
            }
            if (separator)
            {
                if (start >= 0)
                {
                    tokens.Add(text[start..i]);
                    start = -1;
                }
            }
            else if (start < 0)
            {
                start = i;
            }
        }
        return tokens;
    }

    private static int MonthOf(string token)
        => token.Length >= 3 ? Array.IndexOf(Months, token[..3].ToLowerInvariant()) : -1;

    private static bool TryZone(string zone, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (zone.Length == 5 && zone[0] is '+' or '-'
            && int.TryParse(zone.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
            && int.TryParse(zone.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
            && minutes < 60)
        {
            offset = new TimeSpan(hours, minutes, 0);
            if (zone[0] == '-')
            {
                offset = -offset;
            }
            return true;
        }
        int? hoursOffset = zone.ToUpperInvariant() switch
        {
            "UT" or "UTC" or "GMT" or "Z" => 0,
            "EST" => -5, "EDT" => -4, "CST" => -6, "CDT" => -5,
            "MST" => -7, "MDT" => -6, "PST" => -8, "PDT" => -7,
            // RFC 5322 4.3: military zones were defined wrongly and mean "unknown"; read them as UTC.
            { Length: 1 } when char.IsAsciiLetter(zone[0]) => 0,
            _ => null,
        };
        if (hoursOffset is null)
        {
            return false;
        }
        offset = TimeSpan.FromHours(hoursOffset.Value);
        return true;
    }
}
