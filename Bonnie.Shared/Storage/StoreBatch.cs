namespace Bonnie.Shared.Storage;

/// <summary>
/// Everything one or more jobs produced, written atomically by <see cref="IBonnieStore.CommitAsync"/>: the events,
/// the objects' new states, their change records, sessions, users first seen and quarantined notifications.
/// A store keys every row on deterministic ids (job id, object id) so that committing a batch twice stores nothing twice.
/// </summary>
public sealed class StoreBatch
{
    public List<StoredEvent> Events { get; } = [];
    public List<ChangeRecord> Changes { get; } = [];
    public Dictionary<string, FolderObject> Folders { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, MessageObject> Messages { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, SessionObject> Sessions { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, UserObject> Users { get; } = new(StringComparer.OrdinalIgnoreCase);
    public List<QuarantineItem> Quarantine { get; } = [];
    /// <summary>People the events resolved to, merged into their person records (names, first/last seen).</summary>
    public List<PersonSighting> People { get; } = [];

    public bool IsEmpty => Events.Count == 0 && Quarantine.Count == 0 && Changes.Count == 0
        && Folders.Count == 0 && Messages.Count == 0 && Sessions.Count == 0 && Users.Count == 0 && People.Count == 0;
}
