using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Shared.Events;

namespace Bonnie.Pipeline.Tests.Worker;

/// <summary>A handler with a bug: it fails on folder deletions, after changing a folder half-way.</summary>
internal sealed class BrokenDeleteHandler : IEventHandler
{
    public IReadOnlySet<EventType> EventTypes { get; } = new HashSet<EventType> { EventType.MailboxDelete };

    public Task HandleAsync(EventContext context, CancellationToken cancellationToken)
    {
        context.Work.DiscoverFolder("half-way", "user/x@example.org", context.At).Exists = false;
        throw new InvalidOperationException("bug in a handler");
    }
}
