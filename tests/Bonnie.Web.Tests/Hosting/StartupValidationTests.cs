using Bonnie.Web.Hosting;
using Bonnie.Web.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Bonnie.Web.Tests.Hosting;

public sealed class StartupValidationTests
{
    [Fact]
    public void Start_BadConfiguration_FailsNamingEveryProblem()
    {
        using var factory = new BonnieWebFactory(new Dictionary<string, string?>
        {
            ["Bonnie:Officers:MaxFailedAttempts"] = "0",
            ["Bonnie:Officers:LockoutMinutes"] = "0",
            ["Bonnie:Officers:InitialAdministrator:Password"] = "short",
            ["Bonnie:ApiKeys:0:Name"] = "ci",
            ["Bonnie:ApiKeys:0:Key"] = "too-short",
            ["Bonnie:ApiKeys:0:Role"] = "Auditor",
        });

        var error = Record.Exception(() => factory.CreateClient());

        Assert.NotNull(error);
        var message = Flatten(error);
        Assert.Contains("Bonnie:Officers:MaxFailedAttempts must be between 1 and 100 (was 0)", message, StringComparison.Ordinal);
        Assert.Contains("Bonnie:Officers:LockoutMinutes must be between 1 and 1440 (was 0)", message, StringComparison.Ordinal);
        Assert.Contains("InitialAdministrator:Password must be at least 12 characters", message, StringComparison.Ordinal);
        Assert.Contains("Bonnie:ApiKeys:0:Key must be at least 24 characters", message, StringComparison.Ordinal);
        Assert.DoesNotContain("short\"", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_DataDirectoryIsAFile_FailsNamingIt()
    {
        var file = Path.GetTempFileName();
        try
        {
            using var factory = new BonnieWebFactory(new Dictionary<string, string?> { ["Bonnie:DataDirectory"] = file });

            var error = Record.Exception(() => factory.CreateClient());

            Assert.NotNull(error);
            Assert.Contains($"Bonnie:DataDirectory '{file}' is a file, not a directory.", Flatten(error), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("urls", "http://0.0.0.0:8080", true)]
    [InlineData("http_ports", "8080", true)]
    [InlineData("Kestrel:Endpoints:Main:Url", "https://127.0.0.1:5443", true)]
    public void HasConfiguredAddresses_Configuration_DecidesTheLoopbackDefault(string? key, string? value, bool expected)
    {
        var settings = new Dictionary<string, string?>();
        if (key is not null)
        {
            settings[key] = value;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        Assert.Equal(expected, WebHostingExtensions.HasConfiguredAddresses(configuration));
    }

    private static string Flatten(Exception error)
    {
        var parts = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            parts.Add(e.Message);
            if (e is AggregateException aggregate)
            {
                parts.AddRange(aggregate.InnerExceptions.Select(Flatten));
            }
        }
        return string.Join("\n", parts);
    }
}
