using System.Text.Json.Nodes;
using Bonnie.Shared.Storage;

namespace Bonnie.Elasticsearch.Tests;

/// <summary>The folder's JSON document in the strict <c>-folders</c> index: its opaque <c>doc</c> carries the ACL snapshots.</summary>
public sealed class FolderDocumentTests
{
    [Fact]
    public void FolderDocument_AclSubjectsOwnerAndHistory_RoundTripAndPendingIsIndexed()
    {
        var jane = new SubjectIdentity
        {
            Identifier = "-jane@example.org", Kind = SubjectKind.Person, Status = IdentityStatus.Resolved, Negative = true, Rights = "w",
            PersonId = "6f1c2e9a-0000-4000-8000-00000000000a", DisplayName = "Jane Gi", ResolvedAt = new DateTimeOffset(2026, 11, 29, 11, 0, 0, TimeSpan.Zero),
        };
        var folder = new FolderObject { Id = "f1", Name = "user/alice@example.org", Owner = "alice@example.org" };
        folder.Acl["-jane@example.org"] = "w";
        folder.AclSubjects["-jane@example.org"] = jane;
        folder.OwnerIdentity = new SubjectIdentity { Identifier = "alice@example.org", Kind = SubjectKind.Unknown, Status = IdentityStatus.Pending };
        folder.AclSubjectHistory.Add(jane with { Rights = "lrs", DisplayName = "Jane Before", SeenAt = new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero) });

        var document = EsDocuments.Folder(folder);
        // As a search hit comes back over the wire.
        var read = EsDocuments.ReadFolder(JsonNode.Parse($$"""{"_version":3,"_source":{{document.ToJsonString()}}}""")!.AsObject());

        // Only id, name, exists, subjects_pending and doc are mapped; the snapshots live inside doc, stored, not indexed.
        Assert.Equal(["id", "name", "exists", "subjects_pending", "doc"], document.Select(p => p.Key));
        Assert.True(document["subjects_pending"]!.GetValue<bool>());
        Assert.Equal(jane, read.AclSubjects["-jane@example.org"]);
        Assert.Equal(folder.AclSubjectHistory, read.AclSubjectHistory);
        Assert.Equal(folder.OwnerIdentity, read.OwnerIdentity);
    }
}
