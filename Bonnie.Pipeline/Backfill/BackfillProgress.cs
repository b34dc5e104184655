namespace Bonnie.Pipeline.Backfill;

/// <summary>What a backfill has done so far, as the API and the page show it.</summary>
/// <param name="State"><c>idle</c>, <c>running</c>, <c>completed</c>, <c>failed</c> or <c>stopped</c>.</param>
/// <param name="MessagesSeen">Messages looked at in the folders walked.</param>
/// <param name="MessagesRecorded">Message locations newly written to the store; 0 on a run that found nothing new.</param>
/// <param name="FoldersRecorded">Folders newly written to the store.</param>
/// <param name="Bytes">Payload bytes fetched and archived.</param>
/// <param name="MessagesPerSecond">Messages seen per second since the run (or its resumption) started.</param>
/// <param name="Resumed">The run continues one that a crash or a stop interrupted, from its checkpoints.</param>
public sealed record BackfillProgress(
    string State,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int FoldersTotal,
    int FoldersDone,
    int FoldersRecorded,
    long MessagesSeen,
    long MessagesRecorded,
    long Bytes,
    double MessagesPerSecond,
    string? CurrentFolder,
    bool Resumed,
    IReadOnlyList<string> Errors)
{
    public static BackfillProgress Idle { get; } = new("idle", null, null, 0, 0, 0, 0, 0, 0, 0, null, false, []);
}
