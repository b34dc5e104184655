using Bonnie.Shared.Events;

namespace Bonnie.Pipeline.Worker.Handlers;

/// <summary>Sessions: Login and Logout joined by <c>vnd.cmu.sessionId</c>, whichever arrives first.</summary>
internal sealed class SessionHandler : IEventHandler
{
    public IReadOnlySet<EventType> EventTypes { get; } = new HashSet<EventType> { EventType.Login, EventType.Logout };

    public async Task HandleAsync(EventContext context, CancellationToken cancellationToken)
    {
        var e = context.Event;
        if (string.IsNullOrEmpty(e.SessionId))
        {
            return;
        }
        var session = await context.Work.GetSessionAsync(e.SessionId, cancellationToken).ConfigureAwait(false)
            ?? context.Work.CreateSession(e.SessionId);
        session.User ??= e.User;
        session.Service ??= e.Service;
        session.ClientIp ??= e.ClientIP;
        session.ClientPort ??= e.ClientPort;
        session.ServerDomain ??= e.ServerDomain;
        if (e.Type == EventType.Login)
        {
            session.LoginAt = e.Timestamp;
            session.LoginEventId = context.EventId;
        }
        else
        {
            session.LogoutAt = e.Timestamp;
            session.LogoutEventId = context.EventId;
        }
    }
}
