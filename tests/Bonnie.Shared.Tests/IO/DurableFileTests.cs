using Bonnie.Shared.IO;

namespace Bonnie.Shared.Tests.IO;

/// <summary>What the spool, the payload store and the backfill checkpoint rely on when they write a file whole.</summary>
public sealed class DurableFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bonnie-durable-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Write_NewPath_HoldsExactlyTheContentAndNothingElseIsLeftBeside()
    {
        var path = Path.Combine(_dir, "event.json");

        DurableFile.Write(path, "{\"event\":\"MessageNew\"}"u8);

        Assert.Equal("{\"event\":\"MessageNew\"}"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Equal(["event.json"], Directory.EnumerateFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_ExistingPathWithOverwrite_ReplacesItWhole()
    {
        var path = Path.Combine(_dir, "checkpoint.json");
        File.WriteAllText(path, "an older and much longer checkpoint");

        DurableFile.Write(path, "new"u8);

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Single(Directory.EnumerateFiles(_dir));
    }

    // The payload store's race: a second writer of the same content must not replace the first one's file.
    [Fact]
    public void Write_ExistingPathWithoutOverwrite_ThrowsAndLeavesTheFirstFileAlone()
    {
        var path = Path.Combine(_dir, "payload");
        File.WriteAllText(path, "first");

        Assert.Throws<IOException>(() => DurableFile.Write(path, "second"u8, overwrite: false));

        Assert.Equal("first", File.ReadAllText(path));
        Assert.Single(Directory.EnumerateFiles(_dir));
    }

    // The dealer's spool holds mail metadata: readable by its owner only, whatever the umask.
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Write_WithMode_FileHasExactlyThatMode()
    {
        var path = Path.Combine(_dir, "private.json");

        DurableFile.Write(path, "x"u8, mode: UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Write_DirectoryMissing_ThrowsAndCreatesNothing()
    {
        var path = Path.Combine(_dir, "missing", "file");

        Assert.Throws<DirectoryNotFoundException>(() => DurableFile.Write(path, "x"u8));

        Assert.False(Directory.Exists(Path.Combine(_dir, "missing")));
    }
}
