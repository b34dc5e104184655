using Bonnie.Shared.Protocol;
using NetMQ;

namespace Bonnie.Pipeline.Broker;

internal sealed partial class JobBroker
{
    private sealed record Submitter(byte[] Identity, bool Delimited);

    private long _submitted;
    private long _duplicates;
    private long _refused;
    private int _submittedThisSecond;

    private void ReceiveSubmissions()
    {
        var message = new NetMQMessage();
        // Drain what is there, bounded, so that one commit covers many submissions (group commit).
        for (var i = 0; i < _options.MaxBatch && _clients.TryReceiveMultipartMessage(ref message); i++)
        {
            try
            {
                Submit(message);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Whatever one submission holds, it must not stop the broker (an exception escaping the poller ends the
                // process, and the dealer's resend would end it again). Not acknowledged, it stays in the dealer's spool.
                LogSubmitFailed(_logger, ex, message.FrameCount > 1 ? message[message.FrameCount - 1].MessageSize : 0);
            }
            message = new NetMQMessage();
        }
    }

    private void Submit(NetMQMessage message)
    {
        if (message.FrameCount < 2)
        {
            return;
        }
        var identity = message[0].ToByteArray();
        // A REQ client puts an empty delimiter before its one frame; answer it the same way.
        var delimited = message.FrameCount >= 3 && message[1].MessageSize == 0;
        var frame = delimited ? message[2] : message[1];
        var submitter = new Submitter(identity, delimited);
        var frames = message.FrameCount - (delimited ? 2 : 1);
        if (frames > 1)
        {
            // One notification a submission: acknowledging several frames while keeping the first would lose the rest.
            _refused++;
            Reply(submitter, $"{WireProtocol.Refused} a submission is one notification in one frame; this one had {frames} frames, and none was kept");
            return;
        }

        if (_fault is not null)
        {
            // Not taken, and said so at once: the dealer spools the event now rather than waiting out its timeout for an
            // answer that would never come (a review found a client waiting longer left hanging for good).
            Reply(submitter, $"{WireProtocol.Busy} the broker cannot write its queue now; keep the notification and send it again later");
            return;
        }
        if (frame.MessageSize > _options.MaxNotificationBytes)
        {
            _refused++;
            LogRefused(_logger, frame.MessageSize, _options.MaxNotificationBytes);
            Reply(submitter, $"{WireProtocol.Refused} notification of {frame.MessageSize} bytes is over the broker's limit of {_options.MaxNotificationBytes} bytes");
            return;
        }
        var notification = frame.Buffer.AsMemory(0, frame.MessageSize);
        var id = JobId(notification.Span);
        var lane = LaneKey.From(notification.Span) ?? "job:" + id;
        _journal!.Enqueue(new JournalWrite.Insert(id, lane, Now, notification, submitter));
    }

    /// <summary>Runs on the poller thread once the writer has fsynced a batch.</summary>
    private void OnCommitted(IReadOnlyList<JournalWrite> batch)
    {
        foreach (var write in batch)
        {
            switch (write)
            {
                case JournalWrite.Insert insert:
                    if (insert.Seq > 0)
                    {
                        _submitted++;
                        _submittedThisSecond++;
                        var job = Admit(insert.Seq, insert.Id, insert.Lane);
                        MarkReadyIfHead(job.Lane);
                    }
                    else
                    {
                        _duplicates++;
                    }
                    if (insert.Token is Submitter submitter)
                    {
                        Reply(submitter, WireProtocol.Ack);
                    }
                    break;
                case JournalWrite.SetCollected collected:
                    CollectedCommitted(collected.Id);
                    break;
                case JournalWrite.SetState { State: JobState.Done or JobState.Failed } finished:
                    // Counted once on disk, so that what the counts say is what a read of the queue finds.
                    _finished[finished.State]++;
                    break;
                case JournalWrite.PurgeDone purge:
                    // DONE counts the jobs the queue keeps (DoneRetention), as a restart reads them: without this it
                    // kept every job done since the start, while the queue held only the last days' (a review).
                    _finished[JobState.Done] = Math.Max(0, _finished[JobState.Done] - purge.Purged);
                    break;
            }
        }
        Dispatch();
    }

    private void Reply(Submitter submitter, string text)
    {
        var reply = new NetMQMessage(3);
        reply.Append(submitter.Identity);
        if (submitter.Delimited)
        {
            reply.AppendEmptyFrame();
        }
        reply.Append(text);
        try
        {
            _clients.SendMultipartMessage(reply);
        }
        catch (HostUnreachableException)
        {
            // The dealer gave up waiting and spooled the event; it submits again later and the queue de-duplicates.
            LogClientGone(_logger);
        }
    }
}
