using System.Text.Json;
using Bonnie.Shared.Events;

namespace Bonnie.Shared.Tests.Events;

public sealed class NotificationParserFixtureTests
{
    public static TheoryData<string, string> AllFixtures => Fixtures.All();

    [Theory]
    [MemberData(nameof(AllFixtures))]
    public void Parse_EveryFixture_KnownTypeNameAsSentUtcTimeAndRawBytes(string folder, string file)
    {
        var bytes = Fixtures.Bytes(folder, file);
        var sentName = JsonDocument.Parse(bytes).RootElement.GetProperty("event").GetString();

        var result = NotificationParser.Parse(bytes);

        Assert.True(result.IsSuccess, $"{result.Failure}: {result.Reason}");
        var cyrusEvent = result.Event!;
        Assert.Equal(ParseFailure.None, result.Failure);
        Assert.NotEqual(EventType.Unknown, cyrusEvent.Type);
        Assert.Equal(sentName, cyrusEvent.Name);
        Assert.Equal(TimeSpan.Zero, cyrusEvent.Timestamp.Offset);
        Assert.True(cyrusEvent.Raw.Span.SequenceEqual(bytes));
    }

    [Fact]
    public void Parse_RealCyrus36Folder_CoversEveryEventItSent()
    {
        var types = Directory.GetFiles(Fixtures.Directory("events"), "*.json")
            .Select(path => Fixtures.Parse("events", Path.GetFileName(path)).Type)
            .ToHashSet();

        Assert.Equal(20, types.Count);
    }
}
