using System.Text;

namespace Bonnie.Dealer.Diagnostics;

/// <summary>
/// The dealer's only log: Cyrus puts a child's stderr into its own log. Stdout is notifyd's socket and must
/// never be written. Raw bytes, so an event quoted in a message is exactly what Cyrus sent.
/// </summary>
internal static class StandardError
{
    private static readonly byte[] Prefix = "bonnie-dealer: "u8.ToArray();

    public static void Write(string message) => Write(message, []);

    /// <summary>Writes one line: the message, then <paramref name="verbatim"/> bytes (e.g. the event) as they are.</summary>
    public static void Write(string message, ReadOnlySpan<byte> verbatim)
    {
        try
        {
            using var stderr = Console.OpenStandardError();
            var text = Encoding.UTF8.GetBytes(message);
            var line = new byte[Prefix.Length + text.Length + verbatim.Length + 1];
            Prefix.CopyTo(line, 0);
            text.CopyTo(line, Prefix.Length);
            verbatim.CopyTo(line.AsSpan(Prefix.Length + text.Length));
            var end = line.Length - 1;
            if (end > 0 && line[end - 1] == (byte)'\n')
            {
                Array.Resize(ref line, end);
            }
            else
            {
                line[end] = (byte)'\n';
            }
            stderr.Write(line);
        }
        catch (IOException)
        {
            // Nowhere left to report to; the exit status is ignored by Cyrus anyway.
        }
    }
}
