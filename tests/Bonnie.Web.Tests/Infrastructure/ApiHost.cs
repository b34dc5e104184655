using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Bonnie.Web.Tests.Infrastructure;

/// <summary>The real host for API tests: on Kestrel, broker and worker off, API keys from configuration.</summary>
internal static class ApiHost
{
    public static WebApplicationFactory<Program> Start(string dataDirectory, IReadOnlyList<(string Name, string Key, string Role)> keys,
        Action<IWebHostBuilder>? configure = null)
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Bonnie:DataDirectory", dataDirectory);
            // A port of its own: the default 5080 may be taken by a running Bonnie or another test class.
            b.UseSetting("urls", "http://127.0.0.1:0");
            b.UseSetting("Bonnie:Broker:Enabled", "false");
            b.UseSetting("Bonnie:Worker:Enabled", "false");
            b.UseSetting("Bonnie:Payloads:MaxAttempts", "1");
            for (var i = 0; i < keys.Count; i++)
            {
                b.UseSetting($"Bonnie:ApiKeys:{i}:Name", keys[i].Name);
                b.UseSetting($"Bonnie:ApiKeys:{i}:Key", keys[i].Key);
                b.UseSetting($"Bonnie:ApiKeys:{i}:Role", keys[i].Role);
            }
            configure?.Invoke(b);
        });
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }
}
