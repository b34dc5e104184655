namespace Bonnie.Pipeline.Broker;

/// <summary>What officers may ask of the broker from the UI or the API: its failed jobs, and a retry.</summary>
public sealed class BrokerControl
{
    private readonly JobBroker _broker;

    internal BrokerControl(JobBroker broker) => _broker = broker;

    public sealed record FailedJob(string Id, string Lane, int Attempts, DateTimeOffset ReceivedAt, string? Reason);

    public IReadOnlyList<FailedJob> ListFailed(int limit = 200) => _broker.ListFailed(limit)
        .Select(j => new FailedJob(j.Id, j.Lane, j.Attempts, DateTimeOffset.FromUnixTimeMilliseconds(j.ReceivedAt), j.Reason))
        .ToList();

    /// <summary>Puts a FAILED job back to PENDING; false when no failed job has that id.</summary>
    public Task<bool> RetryAsync(string id, CancellationToken cancellationToken = default) => _broker.RetryFailedAsync(id, cancellationToken);
}
