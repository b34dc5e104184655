using Bonnie.Web.Hosting;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bonnie.Web.Tests.Hosting;

public sealed class LoggingDefaultsTests
{
    [Theory]
    // Nothing configured (a host started from a directory without appsettings.json): the request lines, which carry
    // search terms and anything put in a query string, are not logged.
    [InlineData(null, false)]
    // An operator who wants them says so, and is obeyed.
    [InlineData("Information", true)]
    public void RequestLines_NotLoggedUnlessConfigured_WhereverTheHostIsStartedFrom(string? configured, bool logged)
    {
        using var directory = new TempDirectory();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ContentRootPath = directory.Path,
            EnvironmentName = "Production",
            Args = configured is null ? [] : [$"--Logging:LogLevel:Microsoft.AspNetCore={configured}"],
        });

        WebHostingExtensions.KeepRequestLinesOutOfTheLog(builder);

        using var services = builder.Services.BuildServiceProvider();
        var loggers = services.GetRequiredService<ILoggerFactory>();
        Assert.Equal(logged, loggers.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").IsEnabled(LogLevel.Information));
        // Bonnie's own information is still logged.
        Assert.True(loggers.CreateLogger("Bonnie.Pipeline.Broker.JobBroker").IsEnabled(LogLevel.Information));
    }
}
