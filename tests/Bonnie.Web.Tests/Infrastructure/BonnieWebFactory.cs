using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>The real host in a fresh data directory, with a known first administrator.</summary>
public sealed class BonnieWebFactory : WebApplicationFactory<Program>
{
    public const string AdminName = "chief";
    public const string AdminPassword = "correct horse battery staple";

    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="settings">Configuration over the defaults below.</param>
    /// <param name="services">Test services registered after the host's own (e.g. a job processor for the in-process worker).</param>
    public BonnieWebFactory(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        DataDirectory = Path.Combine(Path.GetTempPath(), "bonnie-web-tests", Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Bonnie:DataDirectory"] = DataDirectory,
            ["Bonnie:Officers:InitialAdministrator:UserName"] = AdminName,
            ["Bonnie:Officers:InitialAdministrator:Password"] = AdminPassword,
            // The broker's fixed ports belong to whoever runs Bonnie on this machine; these tests are about the web.
            ["Bonnie:Broker:Enabled"] = "false",
            ["Bonnie:Worker:Enabled"] = "false",
            // A port of its own: the default 5080 may be taken by a running Bonnie or another test class.
            ["urls"] = "http://127.0.0.1:0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public string DataDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(DataDirectory))
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
