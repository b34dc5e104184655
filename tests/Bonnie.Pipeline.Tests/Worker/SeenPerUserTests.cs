using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>
/// Cyrus keeps \Seen per user (found by a review against the real Cyrus: bob reading alice's shared folder was
/// recorded as alice's message becoming read, and her own read later was no change).
/// </summary>
public sealed class SeenPerUserTests
{
    private static string ReadBy(string user) => Fixture.Edit(Fixture.Event("MessageRead"), ("\"user\":\"alice@example.org\"", $"\"user\":\"{user}\""),
        ("\"timestamp\":\"2026-11-29T11:20:39.645Z\"", $"\"timestamp\":\"2026-11-29T11:2{(user.StartsWith('b') ? 1 : 2)}:00.000Z\""));

    [Fact]
    public async Task AnotherUserReadsTheOwnersMail_NotRead_ThenTheOwnerReadsIt_Read()
    {
        await using var p = await TestPipeline.CreateAsync();
        await p.RunAllAsync(Fixture.Event("MessageNew"), ReadBy("bob@example.org"));

        var afterBob = await p.Store.GetMessageAsync("M743974037cbef97becd11ce5");
        Assert.DoesNotContain("\\Seen", afterBob!.Locations.Single().Flags, StringComparer.OrdinalIgnoreCase);
        var bobsRead = await p.Store.GetEventAsync(TestPipeline.JobFor(ReadBy("bob@example.org")).Id);
        Assert.Equal(["M743974037cbef97becd11ce5"], bobsRead!.MessageKeys);

        await p.RunAllAsync(ReadBy("alice@example.org"));

        var afterAlice = await p.Store.GetMessageAsync("M743974037cbef97becd11ce5");
        Assert.Contains("\\Seen", afterAlice!.Locations.Single().Flags, StringComparer.OrdinalIgnoreCase);
        var changes = await p.Store.GetChangesAsync(ObjectKind.Message, "M743974037cbef97becd11ce5");
        var seen = Assert.Single(changes, c => c.Aspect == ChangeAspect.Flag);
        Assert.Equal("alice@example.org", seen.Actor.User);
    }
}
