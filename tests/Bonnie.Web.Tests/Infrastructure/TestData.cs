using Bonnie.Web.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Tests.Infrastructure;

internal static class TestData
{
    public static DataDirectory DataDirectoryIn(string path) => new(
        Options.Create(new HostingOptions { DataDirectory = path }),
        new TestEnvironment(path),
        NullLogger<DataDirectory>.Instance);

    private sealed class TestEnvironment(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Production";
        public string ApplicationName { get; set; } = "Bonnie.Web";
        public string ContentRootPath { get; set; } = root;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } =
            new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
