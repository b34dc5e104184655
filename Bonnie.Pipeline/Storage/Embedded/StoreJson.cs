using System.Text.Json;
using System.Text.Json.Serialization;
using Bonnie.Shared.Storage;

namespace Bonnie.Pipeline.Storage.Embedded;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FolderObject))]
[JsonSerializable(typeof(MessageObject))]
[JsonSerializable(typeof(SessionObject))]
[JsonSerializable(typeof(EventIdentity))]
internal sealed partial class StoreJson : JsonSerializerContext
{
    public static string Write(FolderObject f) => JsonSerializer.Serialize(f, Default.FolderObject);
    public static string Write(MessageObject m) => JsonSerializer.Serialize(m, Default.MessageObject);
    public static string Write(SessionObject s) => JsonSerializer.Serialize(s, Default.SessionObject);
    public static string Write(EventIdentity i) => JsonSerializer.Serialize(i, Default.EventIdentity);
    public static EventIdentity ReadIdentity(string json) => JsonSerializer.Deserialize(json, Default.EventIdentity)!;

    // The serializer builds sorted collections with the default comparer; identity rules need ours back.
    public static FolderObject ReadFolder(string json, long version)
    {
        var f = JsonSerializer.Deserialize(json, Default.FolderObject)!;
        f.Acl = new(f.Acl, StringComparer.Ordinal);
        f.Subscribers = new(f.Subscribers, StringComparer.OrdinalIgnoreCase);
        f.Quota = new(f.Quota, StringComparer.Ordinal);
        f.Metadata = new(f.Metadata, StringComparer.Ordinal);
        f.Version = version;
        return f;
    }

    public static MessageObject ReadMessage(string json, long version)
    {
        var m = JsonSerializer.Deserialize(json, Default.MessageObject)!;
        foreach (var l in m.Locations)
        {
            l.Flags = new(l.Flags, StringComparer.OrdinalIgnoreCase);
        }
        m.Version = version;
        return m;
    }

    public static SessionObject ReadSession(string json, long version)
    {
        var s = JsonSerializer.Deserialize(json, Default.SessionObject)!;
        s.Version = version;
        return s;
    }
}
