using Bonnie.Shared.IO;

namespace Bonnie.Shared.Tests.IO;

public sealed class DurableDirectoryTests
{
    [Fact]
    public void Sync_DirectoryHoldingARenamedFile_Succeeds()
    {
        var dir = Directory.CreateTempSubdirectory("bonnie-durable-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "a.tmp"), "x");
            File.Move(Path.Combine(dir, "a.tmp"), Path.Combine(dir, "a"));

            DurableDirectory.Sync(dir);

            Assert.True(File.Exists(Path.Combine(dir, "a")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A payload or spooled event must not be reported safe when its name could not be made durable.
    [Fact]
    public void Sync_DirectoryMissing_ThrowsNamingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), "bonnie-durable-missing-" + Guid.NewGuid().ToString("N"));

        var ex = Assert.Throws<IOException>(() => DurableDirectory.Sync(missing));

        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }
}
