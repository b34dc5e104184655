namespace Bonnie.Shared.IO;

/// <summary>
/// One CSV field for files officers and lawyers open in a spreadsheet: quoted, and a value a spreadsheet would run as a
/// formula (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, a tab or a carriage return) prefixed with <c>'</c>. A
/// sender chooses a subject or an address such as <c>=HYPERLINK("http://evil.example/")</c>.
/// </summary>
public static class CsvCell
{
    public static string Of(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
