using System.Text;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Protocol;
using NetMQ;

namespace Bonnie.Pipeline.Broker;

internal sealed partial class JobBroker
{
    private sealed class CollectorInfo(string id, byte[] identity)
    {
        public string Id { get; } = id;
        public byte[] Identity { get; } = identity;
        public long LastSeen { get; set; }
    }

    private readonly Dictionary<string, CollectorInfo> _collectors = new(StringComparer.Ordinal);
    private readonly List<JobInfo> _collecting = [];
    private int _nextCollector;

    private void StartCollect(JobInfo job, IReadOnlyList<string> requests)
    {
        WriteOffUnansweredTake(job);
        job.Worker?.Jobs.Remove(job.Id);
        job.Worker = null;
        job.State = JobState.Collecting;
        job.CollectRequests = requests;
        job.Deadline = Now + (long)_options.CollectTimeout.TotalMilliseconds;
        job.Collector = null;
        _collecting.Add(job);
        SendToCollector(job);
    }

    private void SendToCollector(JobInfo job)
    {
        if (_collectors.Count == 0)
        {
            // Waits for a collector to say READY, or for its timeout.
            return;
        }
        var collector = _collectors.Values.ElementAt(_nextCollector++ % _collectors.Count);
        var message = new NetMQMessage();
        message.Append(collector.Identity);
        message.Append(WireProtocol.Collect);
        message.Append(job.Id);
        foreach (var request in job.CollectRequests)
        {
            message.Append(request, Encoding.UTF8);
        }
        try
        {
            _collectorChannel.SendMultipartMessage(message);
            job.Collector = collector;
        }
        catch (HostUnreachableException)
        {
            _collectors.Remove(collector.Id);
        }
    }

    private void ReceiveCollectorMessages()
    {
        var message = new NetMQMessage();
        for (var i = 0; i < 1000 && _collectorChannel.TryReceiveMultipartMessage(ref message); i++)
        {
            if (message.FrameCount >= 2)
            {
                var identity = message[0].ToByteArray();
                var id = IdentityText(identity);
                if (!_collectors.TryGetValue(id, out var collector))
                {
                    collector = new CollectorInfo(id, identity);
                    _collectors.Add(id, collector);
                    LogCollectorJoined(_logger, id);
                    foreach (var waiting in _collecting.Where(j => j.Collector is null).ToList())
                    {
                        SendToCollector(waiting);
                    }
                }
                collector.LastSeen = Now;
                if (Text(message[1]) == WireProtocol.Collected && message.FrameCount >= 3)
                {
                    var items = new List<CollectedItem>();
                    for (var f = 3; f + 2 < message.FrameCount; f += 3)
                    {
                        var status = message[f + 1].ConvertToString(Encoding.UTF8);
                        items.Add(new CollectedItem(
                            message[f].ConvertToString(Encoding.UTF8),
                            message[f + 2].ToByteArray(),
                            status == WireProtocol.CollectOk ? null : status));
                    }
                    Collected(Text(message[2]), items);
                }
            }
            message = new NetMQMessage();
        }
    }

    private void Collected(string id, IReadOnlyList<CollectedItem> items)
    {
        if (_jobs.TryGetValue(id, out var job) && job.State == JobState.Collecting)
        {
            _collecting.Remove(job);
            job.Collector = null;
            // The job goes back out only once what was collected is on disk (CollectedCommitted).
            _journal!.Enqueue(new JournalWrite.SetCollected(id, items));
        }
    }

    private void CollectedCommitted(string id)
    {
        if (_jobs.TryGetValue(id, out var job) && job.State == JobState.Collecting)
        {
            job.State = JobState.Pending;
            MarkReadyIfHead(job.Lane);
        }
    }

    private void ExpireCollects(long now)
    {
        foreach (var job in _collecting.Where(j => j.Deadline <= now).ToList())
        {
            // The worker gets the job back with the reason, and decides (keep the event without its payload).
            Collected(job.Id, job.CollectRequests
                .Select(r => new CollectedItem(r, ReadOnlyMemory<byte>.Empty, $"no collector answered within {_options.CollectTimeout}"))
                .ToList());
        }
    }
}
