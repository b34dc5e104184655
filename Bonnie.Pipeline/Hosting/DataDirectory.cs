using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Bonnie.Pipeline.Hosting;

/// <summary>Where Bonnie keeps its data: <c>Bonnie:DataDirectory</c>, relative to the content root, default <c>data</c>.</summary>
public static class DataDirectory
{
    public const string Key = "Bonnie:DataDirectory";

    public static string Resolve(IConfiguration configuration, IHostEnvironment environment)
    {
        var configured = configuration[Key];
        return Resolve(string.IsNullOrWhiteSpace(configured) ? "data" : configured, environment.ContentRootPath);
    }

    /// <summary>An absolute path as given, a relative one under the content root.</summary>
    public static string Resolve(string configured, string contentRoot) =>
        Path.GetFullPath(Path.IsPathRooted(configured) ? configured : Path.Combine(contentRoot, configured));

    /// <summary>
    /// Creates the directory readable by its owner only: it holds evidence, officers' password hashes, the audit
    /// log and cookie keys.
    /// </summary>
    public static string Ensure(string path)
    {
        if (!Directory.Exists(path))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(path);
            }
            else
            {
                Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        return path;
    }
}
