using System.Globalization;

namespace Bonnie.Web.Components;

/// <summary>A size as officers read it: bytes, KB or MB (1,024 each), one decimal.</summary>
internal static class ByteSize
{
    // The number and its unit joined by a no-break space: at 390 px "0 B" broke between them (a review).
    public static string Of(long bytes) => bytes switch
    {
        < 1024 => $"{bytes}\u00A0B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + "\u00A0KB",
        < 1024L * 1024 * 1024 => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + "\u00A0MB",
        _ => (bytes / 1073741824.0).ToString("0.0", CultureInfo.InvariantCulture) + "\u00A0GB",
    };
}
