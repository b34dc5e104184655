using Bonnie.Pipeline.Broker;

namespace Bonnie.Web.LiveSystem;

/// <summary>
/// The broker's failed jobs as the live view sees them. A boundary because the broker may not run in this
/// process (then there is nothing to list or retry) and because the page is tested without a broker.
/// </summary>
internal interface IFailedJobQueue
{
    /// <summary>False when the broker does not run in this process: nothing can be listed or retried here.</summary>
    bool Available { get; }

    IReadOnlyList<BrokerControl.FailedJob> List(int limit);

    /// <summary>Puts a FAILED job back to PENDING; false when no failed job has that id.</summary>
    Task<bool> RetryAsync(string id, CancellationToken cancellationToken);
}

/// <summary>The failed jobs of the broker that runs in this process.</summary>
internal sealed class BrokerFailedJobQueue(BrokerControl control) : IFailedJobQueue
{
    public bool Available => true;

    public IReadOnlyList<BrokerControl.FailedJob> List(int limit) => control.ListFailed(limit);

    public Task<bool> RetryAsync(string id, CancellationToken cancellationToken) => control.RetryAsync(id, cancellationToken);
}

/// <summary>This process runs no broker (<c>Bonnie:Broker:Enabled</c> is false).</summary>
internal sealed class NoFailedJobQueue : IFailedJobQueue
{
    public static NoFailedJobQueue Instance { get; } = new();

    public bool Available => false;

    public IReadOnlyList<BrokerControl.FailedJob> List(int limit) => [];

    public Task<bool> RetryAsync(string id, CancellationToken cancellationToken) => Task.FromResult(false);
}
