using Microsoft.Extensions.Options;

namespace Bonnie.Web.Hosting;

/// <summary>The <c>Bonnie</c> section's host settings.</summary>
public sealed class HostingOptions
{
    /// <summary>Where Bonnie keeps its databases and keys; relative paths are under the content root.</summary>
    public string DataDirectory { get; set; } = "data";
}

internal sealed class ValidateHostingOptions(IHostEnvironment environment) : IValidateOptions<HostingOptions>
{
    public ValidateOptionsResult Validate(string? name, HostingOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add("Bonnie:DataDirectory must name a directory (it is created when missing).");
        }
        else if (options.DataDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            errors.Add($"Bonnie:DataDirectory '{options.DataDirectory}' contains characters a path cannot hold.");
        }
        else
        {
            var full = DataDirectory.Resolve(options.DataDirectory, environment.ContentRootPath);
            if (File.Exists(full))
            {
                errors.Add($"Bonnie:DataDirectory '{full}' is a file, not a directory.");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
