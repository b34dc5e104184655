using Bonnie.Shared.Storage;
using Bonnie.Web.Messages;

namespace Bonnie.Web.Tests.Messages;

public sealed class MessageTimelineTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 29, 11, 20, 0, TimeSpan.Zero);

    private static ChangeRecord DeletedFlag(bool set) => new()
    {
        Kind = ObjectKind.Message, ObjectId = "m1", Aspect = ChangeAspect.Flag, Key = "\\Deleted", From = set ? null : "set", To = set ? "set" : null,
        FolderId = "f-archive", FolderName = "user/alice/Archive@example.org", Uid = 7, Actor = new Actor("alice@example.org", "s1", "192.0.2.7", "imap"), At = At, EventId = "e1",
    };

    [Fact]
    public void Build_DeletedFlagSetThenCleared_ReadAsAMarkForDeletion_NotAsTheMessageGone()
    {
        // A review read "Deleted", in red, beside a message still in its Archive: \Deleted only marks it for an expunge.
        var message = new MessageObject { Key = "m1" };

        var timeline = MessageTimeline.Build(message, [DeletedFlag(set: true), DeletedFlag(set: false) with { At = At.AddMinutes(1), EventId = "e2" }], []);

        Assert.Equal(["Marked for deletion", "Deletion mark cleared"], timeline.Select(e => e.What));
        Assert.Contains("it stays until it is expunged", timeline[0].Detail, StringComparison.Ordinal);
        Assert.All(timeline, e => Assert.NotEqual(TimelineKind.Removed, e.Kind));
    }
}
