using Microsoft.Extensions.Options;

namespace Bonnie.Web.Hosting;

/// <summary>
/// The directory that holds the officers' accounts, their audit log, the data-protection keys and the
/// embedded store. Created on first use, readable by the service account only.
/// </summary>
public sealed class DataDirectory
{
    public DataDirectory(IOptions<HostingOptions> options, IHostEnvironment environment, ILogger<DataDirectory> logger)
    {
        FullPath = Resolve(options.Value.DataDirectory, environment.ContentRootPath);
        if (!Directory.Exists(FullPath))
        {
            Pipeline.Hosting.DataDirectory.Ensure(FullPath);
            logger.LogInformation("Created the data directory {DataDirectory}", FullPath);
        }
    }

    /// <summary>The absolute path of the data directory.</summary>
    public string FullPath { get; }

    /// <summary>The absolute path of a file or folder inside the data directory.</summary>
    public string PathOf(string relative) => Path.Combine(FullPath, relative);

    internal static string Resolve(string configured, string contentRoot) => Pipeline.Hosting.DataDirectory.Resolve(configured, contentRoot);
}
