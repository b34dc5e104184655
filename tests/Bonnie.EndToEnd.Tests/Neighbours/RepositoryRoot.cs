namespace Bonnie.EndToEnd.Tests.Neighbours;

/// <summary>The checkout the tests run from, found by walking up from the test binaries to Bonnie.sln.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Bonnie.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Bonnie.sln above {AppContext.BaseDirectory}: run the tests from a checkout.");
    }
}
