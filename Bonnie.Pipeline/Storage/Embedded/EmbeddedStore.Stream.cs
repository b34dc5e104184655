using System.Runtime.ExceptionServices;
using System.Collections.Concurrent;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;

namespace Bonnie.Pipeline.Storage.Embedded;

internal sealed partial class EmbeddedStore : IStreamingStore
{
    public async Task<IStoreBatchStream> BeginBatchAsync(CancellationToken cancellationToken)
    {
        EnsureInitialized();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new BatchStream(this);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }
    }

    /// <summary>
    /// A batch written on a thread of its own while the handlers work out its later events: on a 2-core machine the
    /// handlers and SQLite each keep a core busy, where one after the other left one idle. Everything goes into one
    /// transaction, committed at the end exactly as <see cref="CommitAsync"/> commits a whole batch; until then the
    /// handlers' lookups see only committed state (their unit of work knows what this batch changed). Holds the write
    /// lock from start to disposal.
    /// </summary>
    private sealed class BatchStream : IStoreBatchStream
    {
        private readonly EmbeddedStore _store;
        // Two chunks may wait: enough to keep the writer busy, bounded so memory does not grow when it is slower. The
        // writer's thread waits for them synchronously, so that it never needs a thread-pool thread to wake it.
        private readonly ConcurrentQueue<Action> _steps = new();
        private readonly SemaphoreSlim _queued = new(0);
        private readonly SemaphoreSlim _room = new(2);
        private int _complete;
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Dictionary<string, long> _sequences = new(StringComparer.Ordinal);
        // Renames in earlier chunks: each name a folder had finds it (folder aliases, written with the objects).
        private readonly List<ChangeRecord> _renames = [];
        // The batch's term rows, written at the end sorted all together: each term's rows of the whole batch then go
        // to the same page at once (sorted a chunk at a time, the term index cost 4.7 s per 300,000 events against 2.8).
        private readonly List<(string Term, long Seq)> _termRows = [];
        private SqliteTransaction? _tx;
        private volatile Exception? _failure;
        private bool _committed;
        private int _disposed;

        public BatchStream(EmbeddedStore store)
        {
            _store = store;
            new Thread(Run) { IsBackground = true, Name = "Bonnie store writer" }.Start();
        }

        public async ValueTask WriteAsync(List<StoredEvent> events, List<ChangeRecord> changes, CancellationToken cancellationToken)
        {
            ThrowIfFailed();
            // Compressed, joined and split into terms here, on the handlers' thread, which would otherwise wait for the
            // writer: the writer's thread is the one that bounds the rate.
            var prepared = _store.PrepareAll(events, onEveryCore: false);
            await EnqueueAsync(() => Write(events, changes, prepared), cancellationToken).ConfigureAwait(false);
        }

        private async ValueTask EnqueueAsync(Action step, CancellationToken cancellationToken)
        {
            await _room.WaitAsync(cancellationToken).ConfigureAwait(false);
            _steps.Enqueue(step);
            _queued.Release();
        }

        /// <summary>No more steps: the writer's thread ends once it has run those queued.</summary>
        private void Complete()
        {
            if (Interlocked.Exchange(ref _complete, 1) == 0)
            {
                _queued.Release();
            }
        }

        public async Task CommitAsync(StoreBatch rest, CancellationToken cancellationToken)
        {
            await WriteAsync(rest.Events, rest.Changes, cancellationToken).ConfigureAwait(false);
            await EnqueueAsync(() =>
            {
                _tx ??= _store._writer.BeginTransaction();
                _store.WriteTerms(_termRows);
                _store.WriteObjectsAndCommit(_tx, rest, _renames);
                _committed = true;
            }, cancellationToken).ConfigureAwait(false);
            Complete();
            await _ended.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            ThrowIfFailed();
            if (!_committed)
            {
                // Success is the commit having run, not the absence of an error.
                throw new InvalidOperationException("The batch's writer ended without committing it; nothing of it was stored.");
            }
        }

        private void Write(List<StoredEvent> events, List<ChangeRecord> changes, PreparedEvent[] prepared)
        {
            _tx ??= _store._writer.BeginTransaction();
            _store.WriteEvents(events, prepared, _sequences, _termRows);
            _store.WriteChanges(changes, _sequences);
            _renames.AddRange(changes.Where(IsRename));
        }

        private void Run()
        {
            try
            {
                while (true)
                {
                    _queued.Wait();
                    if (!_steps.TryDequeue(out var step))
                    {
                        // Woken with nothing queued: the stream is complete (steps are queued before they are signalled).
                        break;
                    }
                    _room.Release();
                    // After a failure nothing more is written; the transaction is rolled back below.
                    if (_failure is null)
                    {
                        try
                        {
                            step();
                        }
                        catch (Exception ex)
                        {
                            _failure = ex;
                        }
                    }
                }
            }
            finally
            {
                try
                {
                    EndTransaction();
                }
                catch (Exception ex)
                {
                    _failure ??= ex;
                }
                finally
                {
                    // Always: disposal waits for this before it gives the write lock back.
                    _ended.TrySetResult();
                }
            }
        }

        /// <summary>Rolls back what was not committed, and always disposes the transaction.</summary>
        private void EndTransaction()
        {
            try
            {
                if (!_committed)
                {
                    // Rolled back: what the cache learned since may not be what the database holds; start afresh.
                    _store.ForgetCache();
                    _tx?.Rollback();
                }
            }
            catch (Exception ex) when (ex is SqliteException or InvalidOperationException)
            {
                // A failed COMMIT has already ended the transaction; nothing is left to undo.
            }
            finally
            {
                // Left undisposed, the connection would keep it as its transaction and refuse the next one.
                _tx?.Dispose();
            }
        }

        private void ThrowIfFailed()
        {
            if (_failure is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }
            Complete();
            try
            {
                // Not cancellable: the write lock may be released only once the writer's thread is done with the connection.
                await _ended.Task.ConfigureAwait(false);
            }
            finally
            {
                _store._writeLock.Release();
            }
        }
    }
}
