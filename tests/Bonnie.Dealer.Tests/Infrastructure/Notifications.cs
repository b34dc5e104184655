using System.Text;

namespace Bonnie.Dealer.Tests.Infrastructure;

internal static class Notifications
{
    /// <summary>A real notification as Cyrus 3.6 sent it (tests/TestData/cyrus/events).</summary>
    public static byte[] Real(string eventName) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", "events", eventName + ".json"));

    /// <summary>A distinct notification, so the broker side can tell each one apart and in which order it came.</summary>
    public static byte[] Numbered(string eventName, int number, string user = "alice@example.org") =>
        Encoding.UTF8.GetBytes($"{{\"event\":\"{eventName}\",\"user\":\"{user}\",\"test.sequence\":{number}}}\n");
}
