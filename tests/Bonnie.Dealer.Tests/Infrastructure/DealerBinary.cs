namespace Bonnie.Dealer.Tests.Infrastructure;

/// <summary>The published NativeAOT dealer, the very file Cyrus would run.</summary>
internal static class DealerBinary
{
    public const string PathVariable = "BONNIE_DEALER_PATH";

    public static string Path { get; } = Locate();

    private static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return File.Exists(fromEnvironment)
                ? fromEnvironment
                : throw new InvalidOperationException($"{PathVariable}={fromEnvironment} does not exist. {HowToPublish}");
        }
        var root = RepositoryRoot();
        var published = System.IO.Path.Combine(root, "artifacts", "dealer", "bonnie-dealer");
        return File.Exists(published)
            ? published
            : throw new InvalidOperationException($"The published dealer is missing at {published}. {HowToPublish}");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Bonnie.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Cannot find the repository root above {AppContext.BaseDirectory}. {HowToPublish}");
    }

    private const string HowToPublish =
        "Publish it first: `dotnet publish Bonnie.Dealer -c Release -o artifacts/dealer` (test.sh does this), " +
        $"or set {PathVariable} to the published bonnie-dealer.";
}
