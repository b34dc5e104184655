using System.Text.Json;
using System.Text.Json.Serialization;
using Bonnie.Shared.IO;

namespace Bonnie.Pipeline.Backfill;

/// <summary>
/// The backfill's checkpoint in the data directory: the run's state, per folder the highest UID recorded (under
/// its UIDVALIDITY) and whether it is done, and every temporary ACL grant not yet taken back, so that a run
/// interrupted by a crash resumes where it was and restores the ACL it found.
/// </summary>
internal sealed class BackfillCheckpoint
{
    public string State { get; set; } = "running";
    public DateTimeOffset StartedAt { get; set; }
    public Dictionary<string, FolderCheckpoint> Folders { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Folder name to the admin's rights before the backfill granted itself read ("" when it had none).</summary>
    public Dictionary<string, string> Grants { get; set; } = new(StringComparer.Ordinal);

    public static BackfillCheckpoint? Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), BackfillJson.Default.BackfillCheckpoint);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Written durably (<see cref="DurableFile"/>): a crash leaves the old or the new checkpoint, never half of one, and
    /// a power cut after a grant was recorded cannot take the record back, so the grant is always taken back later.
    /// </summary>
    public void Save(string path) => DurableFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(this, BackfillJson.Default.BackfillCheckpoint));
}

internal sealed class FolderCheckpoint
{
    public uint UidValidity { get; set; }
    public uint LastUid { get; set; }
    public bool Complete { get; set; }
}

[JsonSerializable(typeof(BackfillCheckpoint))]
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class BackfillJson : JsonSerializerContext;
