using Bonnie.Shared.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bonnie.Pipeline.Identity;

/// <summary>
/// Resolves the events stored with identity "pending" (the directory did not answer then), a bounded batch at a
/// time, and fills their snapshot and the person records; then, while the directory answers, the folders whose ACL
/// subjects or owner are pending, so they do not wait for the folder's next event. While the directory stays down it
/// backs off, doubling the wait up to <see cref="MaxBackoff"/>.
/// </summary>
internal sealed partial class IdentityReResolution(IBonnieStore store, IIdentityEnricher enricher, TimeProvider time,
    ILogger<IdentityReResolution> logger) : BackgroundService
{
    internal const int BatchSize = 500;
    internal const int FolderBatchSize = 200;
    internal static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(15);

    /// <summary>
    /// What one pass did: events and folders updated, folders left for the next pass because a worker changed them
    /// meanwhile, and whether the directory was down (the rest stays pending).
    /// </summary>
    internal sealed record Pass(int Updated, bool DirectoryDown, bool MoreWaiting, int FoldersUpdated = 0, int FoldersConflicted = 0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = Interval;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var pass = await RunOnceAsync(stoppingToken).ConfigureAwait(false);
                backoff = pass.DirectoryDown ? TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks)) : Interval;
                wait = pass.DirectoryDown ? backoff : pass.MoreWaiting ? TimeSpan.Zero : Interval;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store failed this pass: the events stay pending, the next pass tries again.
                LogPassFailed(logger, ex);
                wait = Interval;
            }
            try
            {
                await Task.Delay(wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One bounded pass over the oldest pending events; stops at the first "directory still down".</summary>
    internal async Task<Pass> RunOnceAsync(CancellationToken cancellationToken)
    {
        var pending = await store.GetPendingIdentityAsync(BatchSize, cancellationToken).ConfigureAwait(false);
        var updates = new List<IdentityUpdate>();
        var people = new List<PersonSighting>();
        var byUser = new Dictionary<string, Enrichment>(StringComparer.OrdinalIgnoreCase);
        var down = false;
        foreach (var e in pending)
        {
            if (e.User is not { Length: > 0 } user)
            {
                continue;
            }
            if (!byUser.TryGetValue(user, out var enrichment))
            {
                enrichment = await enricher.EnrichAsync(user, e.Timestamp, cancellationToken).ConfigureAwait(false);
                byUser[user] = enrichment;
            }
            if (enrichment.Identity.Status == IdentityStatus.Pending)
            {
                down = true;
                break;
            }
            updates.Add(new IdentityUpdate(e.Id, enrichment.Identity));
            if (enrichment.Person is { } person)
            {
                people.Add(person with { At = e.Timestamp });
            }
        }
        if (updates.Count > 0)
        {
            await store.UpdateIdentityAsync(updates, people, cancellationToken).ConfigureAwait(false);
            LogResolved(logger, updates.Count);
        }
        if (down)
        {
            return new Pass(updates.Count, DirectoryDown: true, MoreWaiting: false);
        }
        var folders = await FillFoldersAsync(cancellationToken).ConfigureAwait(false);
        // A full batch of folders of which some were written: more may wait (a batch that only conflicted waits its turn).
        var more = pending.Count == BatchSize || (folders.Read == FolderBatchSize && folders.Updated > 0);
        return new Pass(updates.Count, folders.DirectoryDown, !folders.DirectoryDown && more, folders.Updated, folders.Conflicted);
    }

    private sealed record FolderPass(int Read, int Updated, int Conflicted, bool DirectoryDown);

    /// <summary>
    /// Fills in the pending subjects and owners of a bounded batch of folders, each written back alone with the version
    /// it was read at: a worker that changed the folder meanwhile wins, and the folder is read again next pass.
    /// </summary>
    private async Task<FolderPass> FillFoldersAsync(CancellationToken cancellationToken)
    {
        var folders = await store.GetFoldersWithPendingSubjectsAsync(FolderBatchSize, cancellationToken).ConfigureAwait(false);
        var subjects = new FolderSubjects(enricher);
        var now = time.GetUtcNow();
        int updated = 0, conflicted = 0;
        var down = false;
        foreach (var folder in folders)
        {
            var people = new List<PersonSighting>();
            var filled = await subjects.FillPendingAsync(folder, now, people, cancellationToken).ConfigureAwait(false);
            // Still pending after asking: the directory stopped answering (later folders would only be asked in vain).
            down = folder.HasPendingSubjects();
            if (filled)
            {
                var batch = new StoreBatch();
                batch.Folders[folder.Id] = folder;
                batch.People.AddRange(people);
                try
                {
                    await store.CommitAsync(batch, cancellationToken).ConfigureAwait(false);
                    updated++;
                }
                catch (StoreConflictException ex)
                {
                    // A worker wrote the folder since it was read: its change stands; this folder is read again next pass.
                    LogFolderConflict(logger, folder.Id, ex.Message);
                    conflicted++;
                }
            }
            if (down)
            {
                break;
            }
        }
        if (updated > 0)
        {
            LogFoldersResolved(logger, updated);
        }
        return new FolderPass(folders.Count, updated, conflicted, down);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-resolution filled the identity of {Count} pending events")]
    private static partial void LogResolved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-resolution filled the pending ACL subjects or owner of {Count} folders")]
    private static partial void LogFoldersResolved(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Folder {FolderId} changed while its subjects were resolved; it is tried again next pass: {Reason}")]
    private static partial void LogFolderConflict(ILogger logger, string folderId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A re-resolution pass failed; the events stay pending")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
