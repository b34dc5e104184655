using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Storage;

/// <summary>
/// A store that can take a batch while it is still being worked out: events and their change records a chunk at a
/// time, written into one open transaction while the handlers go on, then the objects and the commit. The embedded
/// store does; a store that does not is given the whole batch at once (<see cref="IBonnieStore.CommitAsync"/>).
/// </summary>
internal interface IStreamingStore
{
    /// <summary>Starts a batch; holds the store's writer until the batch is committed or disposed.</summary>
    Task<IStoreBatchStream> BeginBatchAsync(CancellationToken cancellationToken);
}

/// <summary>One batch being written. Disposed without <see cref="CommitAsync"/>, nothing of it stays.</summary>
internal interface IStoreBatchStream : IAsyncDisposable
{
    /// <summary>
    /// Hands over events and the change records they caused, in order; returns once they are queued (at most two
    /// chunks wait). A failure of an earlier chunk is thrown here or by <see cref="CommitAsync"/>.
    /// </summary>
    ValueTask WriteAsync(List<StoredEvent> events, List<ChangeRecord> changes, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the rest of the batch (its events and changes, then its objects, users, people and quarantine) and
    /// commits; returns once the commit is durable. Throws what the batch's write failed with, and then nothing stays.
    /// </summary>
    Task CommitAsync(StoreBatch rest, CancellationToken cancellationToken);
}
