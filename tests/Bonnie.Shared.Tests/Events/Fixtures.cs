using System.Text;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

internal static class Fixtures
{
    public static string Directory(string folder) => Path.Combine(AppContext.BaseDirectory, "TestData", "cyrus", folder);

    public static byte[] Bytes(string folder, string file) => File.ReadAllBytes(Path.Combine(Directory(folder), file));

    public static CyrusEvent Parse(string folder, string file)
    {
        var result = NotificationParser.Parse(Bytes(folder, file));
        Assert.True(result.IsSuccess, $"{folder}/{file}: {result.Failure} {result.Reason}");
        return result.Event!;
    }

    public static ParseResult ParseText(string json) => NotificationParser.Parse(Encoding.UTF8.GetBytes(json));

    public static TheoryData<string, string> All()
    {
        var data = new TheoryData<string, string>();
        foreach (var folder in new[] { "events", "events-2.5", "fixtures" })
        {
            foreach (var path in System.IO.Directory.GetFiles(Directory(folder), "*.json").Order(StringComparer.Ordinal))
            {
                data.Add(folder, Path.GetFileName(path));
            }
        }
        return data;
    }
}
