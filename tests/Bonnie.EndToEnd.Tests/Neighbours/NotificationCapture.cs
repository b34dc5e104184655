using System.Text;
using System.Text.Json;

namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>The notifications notify-capture.sh appended, one JSON object per line.</summary>
public sealed class NotificationCapture(string file)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public string File { get; } = file;

    /// <summary>Every complete notification so far (a line still being written is left for the next read).</summary>
    public IReadOnlyList<JsonElement> ReadAll()
    {
        if (!System.IO.File.Exists(File))
        {
            return [];
        }

        using var stream = new FileStream(File, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return complete.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line =>
            {
                using var document = JsonDocument.Parse(line);
                return document.RootElement.Clone();
            })
            .ToList();
    }

    /// <summary>
    /// Waits for the first notification that matches. notifyd runs the capture program in its own process, and
    /// nothing tells this process when it wrote, so the file is read again until the deadline.
    /// </summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var all = ReadAll();
            foreach (var notification in all)
            {
                if (match(notification))
                {
                    return notification;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                var names = string.Join(", ", all.TakeLast(20).Select(n => n.GetProperty("event").GetString()));
                throw new TimeoutException($"no matching notification within {timeout}; the last ones were: {names}");
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }
}
